"""The ``dflbench`` command line: a thin typer layer over the library (one file per command)."""

from __future__ import annotations

import typer

from dflbench import __version__

app = typer.Typer(
    name="dflbench",
    help="Benchmark loss functions under class imbalance, per class: Dual Focal Loss against the field.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dflbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Benchmark loss functions under class imbalance, per class."""


from dflbench.cli import check_loss, compare, list_cmd, rank, report, run, show  # noqa: E402,F401  (register the commands)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; it owns the process, so it applies the process-wide settings."""
    from dflbench.cli._common import run_app
    from dflbench.settings import apply_process_settings

    apply_process_settings()
    run_app(typer.main.get_command(app), argv)
