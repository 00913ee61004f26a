"""``dflbench rank``: which loss wins across datasets — average ranks, Friedman and Iman–Davenport,
Wilcoxon–Holm pairs, Nemenyi's critical difference, Bayesian signed-rank tests and a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dflbench.cli import app
from dflbench.cli._common import OutputFormat, emit


@app.command()
def rank(
    files: Annotated[list[Path], typer.Argument(
        metavar="RESULT.json",
        help="Result files written by 'dflbench run'. Their datasets are merged (each dataset in "
             "one file only) and their treatments aligned by label.")],
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", "-m", metavar="NAME",
        help="Metric to rank on (repeatable) [default: the suites' metrics]. See 'dflbench list "
             "metrics'.")] = None,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", "-b", metavar="TREATMENT",
        help="Compare every treatment with this one (k − 1 pairs) instead of every pair.")] = None,
    alpha: Annotated[float, typer.Option(
        "--alpha", metavar="P", help="Significance level of the tests.")] = 0.05,
    rope: Annotated[float, typer.Option(
        "--rope", metavar="X",
        help="Region of practical equivalence of the Bayesian test, in the metric's units: "
             "differences within ±X count as equivalent.")] = 0.01,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Report format on stdout (json: the documented contract).")
    ] = OutputFormat.table,
) -> None:
    """Rank losses across datasets and test the differences, with a verdict in words.

    Each (dataset, loss) is the mean over its successful runs; losses are ranked on each dataset
    (1 = best, ties share the average rank). Reports per metric the Friedman and Iman–Davenport
    tests, pairwise Wilcoxon signed-rank tests with Holm's correction, Nemenyi's critical
    difference, Bayesian signed-rank probabilities with a ROPE, and what the data cannot tell.
    docs/statistics.md explains each test.
    """
    from dflbench.ranking import rank_results
    from dflbench.report import renderer
    from dflbench.results import load_result

    render = renderer(output_format.value, "ranking")
    results = [(str(path), load_result(path)) for path in files]
    ranking = rank_results(results, metric, alpha=alpha, rope=rope, baseline=baseline,
                           strict=True)
    emit(render.ranking(ranking))
