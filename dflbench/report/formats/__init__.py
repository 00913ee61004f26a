"""Output formats, one module each, registered in :data:`dflbench.report.RENDERERS`."""
