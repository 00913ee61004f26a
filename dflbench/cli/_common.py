"""The CLI's one error boundary: library errors become one line on stderr and an exit code.

Exit codes (docs/design.md): 0 success; 1 ``compare`` found a regression; 2 invalid input or usage;
3 ``run`` finished but some tasks failed; 130 interrupted.
"""

from __future__ import annotations

import enum
import sys
import warnings
from typing import Any, NoReturn

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _formats() -> type[enum.Enum]:
    from dflbench.report import RENDERERS

    return enum.Enum("OutputFormat", {name: name for name in RENDERERS.names()}, type=str)


#: The ``--format`` choices: every registered renderer (dflbench.report.RENDERERS).
OutputFormat = _formats()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``dflbench: error: message`` on stderr and exit with ``code``."""
    sys.stderr.write(f"dflbench: error: {message}\n")
    raise SystemExit(code)


def stdout_console():
    from rich.console import Console

    return Console(soft_wrap=False)


def emit(report: Any) -> None:
    """Write a renderer's output to stdout: text as it is, a rich renderable through
    :func:`print_report`."""
    if isinstance(report, str):
        sys.stdout.write(report)
    else:
        print_report(report)


def print_report(renderable: Any) -> None:
    """Print a rich report on stdout; piped or in a CI log there is no screen to fit, so the
    tables are widened rather than wrapped."""
    from rich.console import Console
    from rich.measure import Measurement

    console = stdout_console()
    if not console.is_terminal:
        needed = Measurement.get(console, console.options.update(max_width=1000), renderable).maximum
        if needed > console.width:
            console = Console(soft_wrap=False, width=needed)
    console.print(renderable)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """dflbench's own warnings as one line each (``dflbench: warning: ...``); others as Python
    shows them."""
    from dflbench.errors import DflbenchWarning

    if issubclass(category, DflbenchWarning):
        sys.stderr.write(f"dflbench: warning: {message}\n")
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_app(command: Any, argv: list[str] | None = None) -> NoReturn:
    """Run the typer command with dflbench's error boundary (typer's own exits pass through)."""
    import typer

    from dflbench.errors import DflbenchError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            rv = command.main(args=argv, prog_name="dflbench", standalone_mode=False)
    except DflbenchError as exc:
        fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, bad choice, missing value
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            raise SystemExit(EXIT_USAGE) from None
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        fail(f"{exc.format_message()}{where}", EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        raise SystemExit(EXIT_OK) from None
    raise SystemExit(rv if isinstance(rv, int) else EXIT_OK)
