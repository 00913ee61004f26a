"""Renderers of a SuiteResult: rich tables (``table``), Markdown (``markdown``).

Both draw from the same plain view (``_view``), so they show the same numbers; renderers never
compute metrics, they only select and format what the result holds.
"""
