"""``dflbench compare``: deltas of result files against a baseline, and a regression gate for CI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dflbench.cli import app
from dflbench.cli._common import EXIT_OK, EXIT_REGRESSION, OutputFormat, emit


@app.command()
def compare(
    files: Annotated[list[Path], typer.Argument(
        metavar="FILE",
        help="Result JSON files written by 'dflbench run' (a shell glob such as results/*.json "
             "works). The first is the baseline unless --baseline is given.")],
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", "-b", metavar="FILE",
        help="The result file to compare against (it may also be among the FILEs; it is not compared "
             "with itself).")] = None,
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", "-m", metavar="NAME",
        help="Metric to gate on, shown first (repeatable) [default: macro_f1]. The suite's other "
             "metrics are shown too. See 'dflbench list metrics'.")] = None,
    max_drop: Annotated[str | None, typer.Option(
        "--max-drop", metavar="X|X%",
        help="Largest acceptable drop of a gated metric's mean: absolute (0.02) or relative to the "
             "baseline mean (2%). A bigger drop in any (dataset, loss) pair is a regression: exit 1. "
             "For ECE a drop is an increase. Without --max-drop there is no gate (exit 0).")] = None,
    per_class: Annotated[bool, typer.Option(
        "--per-class", help="Also show per-class recall and F1 deltas (not gated).")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict",
        help="Exit 2 when anything does not align (a dataset, loss, class or metric present on "
             "one side only) instead of only listing it.")] = False,
    alpha: Annotated[float, typer.Option(
        "--alpha", metavar="P",
        help="Significance level for 'beyond seed noise' (the p-value informs; it never decides "
             "a regression).")] = 0.05,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Report format on stdout.")] = OutputFormat.table,
) -> int:
    """Compare result files against a baseline, per dataset and loss; gate with --max-drop.

    Runs are aligned by (dataset, loss label) and, with --per-class, by class label. Each metric's
    mean ± std over the successful seeds is shown per file with its delta against the baseline and
    a two-sided p-value (paired t-test when both files hold the same seeds, else Welch). A
    regression is decided by --max-drop alone; the p-value says whether the drop is beyond seed
    noise. Exit codes: 0 no regression (or no gate), 1 regression, 2 invalid input.
    """
    from dflbench.compare import check_alpha, check_metrics, compare_results, parse_allowance, require_aligned
    from dflbench.report import check_format
    from dflbench.results import load_result

    check_format(output_format.value, "comparison")
    metrics = check_metrics(metric or ["macro_f1"])
    allowance = None if max_drop is None else parse_allowance(max_drop)
    check_alpha(alpha)
    base_path, candidates = _roles(files, baseline)
    comparison = compare_results(load_result(base_path),
                                 [(str(path), load_result(path)) for path in candidates],
                                 metrics, allowance, per_class, baseline_name=str(base_path),
                                 alpha=alpha)
    _print_report(comparison, output_format)
    _report_regressions(comparison)
    if strict:
        require_aligned(comparison)
    return EXIT_REGRESSION if comparison.regressions else EXIT_OK


def _roles(files: list[Path], baseline: Path | None) -> tuple[Path, list[Path]]:
    """The baseline file and the candidates: ``--baseline`` against every other file, else the
    first file against the rest."""
    from dflbench.errors import ConfigError

    if baseline is not None:
        candidates = [f for f in files if not _same_file(f, baseline)]
        if not candidates:
            raise ConfigError("compare needs at least one result file besides the baseline "
                              f"{baseline}")
        return baseline, candidates
    if len(files) < 2:
        raise ConfigError("compare needs at least two result files (the first is the "
                          "baseline), or --baseline FILE and one more")
    return files[0], files[1:]


def _report_regressions(comparison: Any) -> None:
    """One stderr line per regression and a count, for CI logs (the report went to stdout)."""
    if not comparison.regressions:
        return
    from dflbench.report.compare_view import regression_lines

    for line in regression_lines(comparison):
        sys.stderr.write(f"dflbench: regression: {line}\n")
    n = len(comparison.regressions)
    sys.stderr.write(f"dflbench: {n} regression{'s' if n != 1 else ''} beyond --max-drop "
                     f"{comparison.max_drop} on {', '.join(comparison.gated)}\n")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _print_report(comparison: Any, output_format: OutputFormat) -> None:
    from dflbench.report import renderer

    emit(renderer(output_format.value).comparison(comparison))
