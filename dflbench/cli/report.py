"""``dflbench report``: one self-contained HTML page (plots inline, nothing loaded from anywhere)
from one or more result files."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dflbench.cli import app
from dflbench.cli.run import _check_writable


@app.command()
def report(
    results: list[Path] = typer.Argument(
        ..., help="Result JSON files written by 'dflbench run' (each with its own datasets)."),
    html: Path = typer.Option(..., "--html", help="Write the HTML report to this file."),
) -> None:
    """Write an HTML report with plots: per-class bars, confusion matrices, reliability diagrams,
    learning curves, learned loss parameters, the cross-dataset comparison and what failed."""
    from dflbench.errors import ConfigError
    from dflbench.fsio import atomic_write_text
    from dflbench.report.formats.html import Html
    from dflbench.results import load_result

    _check_writable(html, "--html")
    loaded = [load_result(path) for path in results]
    names = [p.name for p in results]
    labels = names if len(set(names)) == len(names) else [str(p) for p in results]
    text = Html().report(list(zip(labels, loaded)))
    try:
        atomic_write_text(html, text)
    except OSError as exc:
        raise ConfigError(f"--html: cannot write {html} ({exc.strerror or exc})") from None
    sys.stderr.write(f"wrote {html} ({len(text.encode()) / 1e6:.1f} MB)\n")
