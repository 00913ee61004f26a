"""``dflbench show``: re-render a saved result exactly as ``run`` printed it."""

from __future__ import annotations

from pathlib import Path

import typer

from dflbench.cli import app
from dflbench.cli._common import OutputFormat
from dflbench.cli.run import _print_report


@app.command()
def show(
    result: Path = typer.Argument(..., help="A result JSON written by 'dflbench run'."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f",
                                               help="Report format on stdout."),
) -> None:
    """Re-render a saved result file (tables, Markdown or JSON)."""
    from dflbench.results import load_result

    _print_report(load_result(result), output_format)
