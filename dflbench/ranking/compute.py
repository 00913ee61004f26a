"""Rank treatments across datasets, per metric: the dataset × treatment matrix of means, each
dataset's ranks, Friedman and Iman–Davenport, Nemenyi's critical difference, pairwise Wilcoxon
tests with Holm's correction and Bayesian signed-rank tests, then the verdict in words
(Demšar, JMLR 2006; Benavoli, Corani, Mangili, JMLR 2016; Benavoli et al., JMLR 2017)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dflbench.errors import ConfigError, unknown
from dflbench.metrics import METRICS
from dflbench.ranking import frequentist as freq
from dflbench.ranking.bayes import one_blas_thread, signed_rank
from dflbench.ranking.collect import Grid, merge
from dflbench.ranking.model import CellStat, HypothesisTest, MetricRanking, PairTest, Ranking
from dflbench.ranking.verdict import verdict_lines
from dflbench.results.model import SuiteResult

DEFAULT_ALPHA = 0.05
#: The region of practical equivalence, in the metric's units: ±0.01 macro-F1 is noise to most users.
DEFAULT_ROPE = 0.01


def check_rope(rope: float) -> float:
    if not (math.isfinite(rope) and rope >= 0):
        raise ConfigError(f"--rope: {rope} is invalid (expected a number >= 0 in the metric's "
                          "units, such as 0.01)")
    return rope


def rank_results(results: Sequence[tuple[str, SuiteResult]], metrics: Sequence[str] | None = None,
                 *, alpha: float = DEFAULT_ALPHA, rope: float = DEFAULT_ROPE,
                 baseline: str | None = None, strict: bool = False) -> Ranking:
    """Rank the treatments of one or more result files (``(name, result)`` pairs) on every
    dataset, per metric (default: the metrics the suites ask for).

    ``baseline``: compare each treatment with it instead of every pair. ``strict`` (the ``rank``
    command): refuse input with fewer than two datasets or two treatments instead of reporting
    that the tests were skipped.
    """
    # compare's option checks are shared; compare itself imports this package, so import late.
    from dflbench.compare.model import check_alpha, check_metrics

    check_alpha(alpha)
    check_rope(rope)
    names = check_metrics(metrics) if metrics else None
    if not results:
        raise ConfigError("rank needs at least one result file")
    grid = merge(results)
    if strict:
        _require_enough(grid)
    if baseline is not None and baseline not in grid.treatments:
        raise ConfigError(f"--baseline: {unknown('treatment', baseline, grid.treatments)}")
    with one_blas_thread():
        ranked = {m: rank_metric(grid, m, alpha, rope, baseline) for m in names or grid.metrics}
    return Ranking(grid.files, grid.datasets, grid.treatments, alpha, rope, baseline, ranked,
                   grid.notes)


def _require_enough(grid: Grid) -> None:
    files = ", ".join(grid.files)
    if len(grid.datasets) < 2:
        held = f"one ({grid.datasets[0]})" if grid.datasets else "none"
        raise ConfigError(f"rank needs at least two datasets across the result files; {files} "
                          f"hold {held}")
    if len(grid.treatments) < 2:
        raise ConfigError(f"rank needs at least two treatments (losses); {files} hold "
                          f"{len(grid.treatments)}")


def rank_metric(grid: Grid, metric: str, alpha: float, rope: float,
                baseline: str | None) -> MetricRanking:
    """Everything ``rank`` reports for one metric."""
    info = METRICS[metric]
    cells = {d: {t: grid.cell(d, t, metric) for t in grid.treatments} for d in grid.datasets}
    treatments = [t for t in grid.treatments if any(cells[d][t].mean is not None for d in cells)]
    notes = [f"{t}: no successful run with a {metric} value on any dataset; left out of the "
             f"ranking" for t in grid.treatments if t not in treatments]
    left_out = {d: _why_left_out(row, treatments) for d, row in cells.items()
                if any(row[t].mean is None for t in treatments)}
    datasets = [d for d in grid.datasets if d not in left_out]
    out = MetricRanking(metric, info.title, info.higher_is_better, datasets, treatments, cells,
                        {}, {}, HypothesisTest(None, None, "no dataset to rank"),
                        HypothesisTest(None, None, "no dataset to rank"), None, [], [],
                        left_out, notes)
    if datasets and treatments:
        _fill(out, np.array([[cells[d][t].mean for t in treatments] for d in datasets]),
              alpha, rope, baseline)
    out.verdict = verdict_lines(out, alpha, baseline)
    return out


def _why_left_out(row: dict[str, CellStat], treatments: list[str]) -> str:
    missing = [t for t in treatments if row[t].mean is None]
    parts = [f"{t} ({row[t].n_runs - row[t].n} of {row[t].n_runs} runs without a value)"
             if row[t].n_runs else f"{t} (not run)" for t in missing]
    return "no value for " + ", ".join(parts)


def _fill(out: MetricRanking, matrix: np.ndarray, alpha: float, rope: float,
          baseline: str | None) -> None:
    """Ranks, tests and pairwise comparisons of ``out`` from its matrix of means."""
    n, k = matrix.shape
    ranks = freq.rank_matrix(matrix, out.higher_is_better)
    out.ranks = {d: {t: float(r) for t, r in zip(out.treatments, row)}
                 for d, row in zip(out.datasets, ranks)}
    out.average_ranks = {t: float(r) for t, r in zip(out.treatments, ranks.mean(axis=0))}
    out.friedman = freq.friedman(matrix)
    out.iman_davenport = freq.iman_davenport(out.friedman, n, k)
    if n >= 2 and k >= 2:
        out.critical_difference = freq.critical_difference(k, n, alpha)
        out.groups = freq.cd_groups(out.average_ranks, out.critical_difference)
    else:
        out.notes.append(f"Nemenyi's critical difference needs at least 2 datasets and 2 "
                         f"treatments (there are {n} and {k})")
    order = sorted(out.treatments, key=lambda t: out.average_ranks[t])
    if baseline is None:
        pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
    elif baseline in out.treatments:
        pairs = [(t, baseline) for t in order if t != baseline]
    else:
        pairs = []
        out.notes.append(f"the baseline {baseline} has no value on any dataset: no pairwise tests")
    column = {t: matrix[:, j] for j, t in enumerate(out.treatments)}
    out.pairwise = [_pair(a, b, column[a], column[b], out.higher_is_better, rope) for a, b in pairs]
    for pair, p in zip(out.pairwise, freq.holm([p.p_value for p in out.pairwise])):
        pair.p_holm = p


def _pair(a: str, b: str, mean_a: np.ndarray, mean_b: np.ndarray, higher_is_better: bool,
          rope: float) -> PairTest:
    """``a`` against ``b`` over the datasets' means (a two-sided test does not care which way is
    better; wins, losses and the Bayesian test read a lower-is-better metric negated)."""
    p, note = freq.wilcoxon(mean_a, mean_b)
    score_a, score_b = (mean_a, mean_b) if higher_is_better else (-mean_a, -mean_b)
    return PairTest(a, b, int(np.sum(score_a > score_b)), int(np.sum(score_a == score_b)),
                    int(np.sum(score_a < score_b)), p, None, signed_rank(score_a, score_b, rope),
                    note, _favours_a(score_a - score_b))


def _favours_a(diff: np.ndarray) -> bool:
    """Whether the positive differences carry at least half the signed ranks (zeros dropped)."""
    from scipy.stats import rankdata

    nonzero = diff[diff != 0]
    ranks = rankdata(np.abs(nonzero))
    return bool(ranks[nonzero > 0].sum() >= ranks[nonzero < 0].sum())


class _MeansGrid:
    """A :class:`Grid` read from a matrix of means (one value per cell, as the HTML report has)."""

    def __init__(self, matrix) -> None:  # matrix: dflbench.report.html_view.MeansMatrix
        self.datasets, self.treatments = list(matrix.datasets), list(matrix.treatments)
        self.values = {(d, t): v for d, row in zip(matrix.datasets, matrix.means)
                       for t, v in zip(matrix.treatments, row)}

    def cell(self, dataset: str, treatment: str, metric: str) -> CellStat:
        v = self.values[(dataset, treatment)]
        return CellStat(v, None, 0 if v is None else 1, 1)


def rank_means(matrix, alpha: float = DEFAULT_ALPHA, rope: float = DEFAULT_ROPE):
    """The HTML report's ranker (:data:`dflbench.report.html_view.Ranker`): average ranks, the
    Nemenyi critical difference, the groups it cannot separate and the verdict for one metric,
    computed exactly as ``dflbench rank`` does."""
    from dflbench.report.html_view import RankSummary

    with one_blas_thread():
        ranked = rank_metric(_MeansGrid(matrix), matrix.metric, alpha, rope, None)  # type: ignore[arg-type]
    note = "; ".join([*ranked.notes, *(f"{d}: {why}" for d, why in ranked.left_out.items())])
    return RankSummary(ranked.average_ranks, ranked.critical_difference,
                       tuple(tuple(g) for g in ranked.groups), " ".join(ranked.verdict), note)
