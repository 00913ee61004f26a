"""The view of a :class:`dflbench.ranking.Ranking` every renderer draws: per metric the means and
ranks per dataset, the tests, the pairwise comparisons, a critical-difference diagram and the
verdict; and the short verdict section that ends ``run`` and ``show`` reports. Nothing here
computes a statistic; it only selects and formats what the ranking holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from dflbench.ranking import MetricRanking, Ranking
from dflbench.ranking.verdict import DECISION, fmt_p
from dflbench.report.cells import GOOD, Cell, TableView, mark_best, mark_column, plural

#: Digits of means (and of the comparison that marks the best one) and of average ranks.
MEAN_DIGITS, RANK_DIGITS = 3, 2
#: Width of the critical-difference diagram's axis, in characters.
DIAGRAM_WIDTH = 50


@dataclass
class MetricRankView:
    metric: str
    title: str
    means: TableView
    tests: list[str]
    pairwise: TableView | None
    diagram: list[str]
    verdict: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class RankView:
    title: str
    subtitle: str
    metrics: list[MetricRankView]
    notes: list[str]
    legend: str


@dataclass
class VerdictView:
    """The end of a ``run``/``show`` report: average ranks per metric, then each metric's verdict
    (lines every metric shares are said once, in ``common``)."""

    title: str
    ranks: TableView | None
    sections: list[tuple[str, list[str]]]
    common: list[str] = field(default_factory=list)


def fmt_rank(rank: float) -> str:
    """A rank on one dataset: a whole number, or a half for a tie of two (2.5)."""
    return f"{rank:g}"


def losses(k: int) -> str:
    return f"{k} loss{'es' if k != 1 else ''}"


def build_rank_view(ranking: Ranking) -> RankView:
    files = ", ".join(ranking.files)
    how = f"each against {ranking.baseline}" if ranking.baseline else "every pair"
    subtitle = (f"{files} · {plural(len(ranking.datasets), 'dataset')} · "
                f"{losses(len(ranking.treatments))} · α = {ranking.alpha:g} · "
                f"ROPE ±{ranking.rope:g} · pairs: {how}")
    legend = ("Means over each (dataset, loss)'s successful runs (seeds × repeats × folds); "
              "(r): the loss's rank on that dataset, 1 = best, ties share the average rank. "
              "p: two-sided Wilcoxon signed-rank test over datasets; Holm p: corrected for the "
              f"number of pairs. P(…): Bayesian signed-rank probabilities with the ROPE; "
              f"bold: Holm p < α or a probability ≥ {DECISION:g}. docs/statistics.md explains "
              "each test.")
    views = [metric_view(m, ranking.alpha) for m in ranking.metrics.values()]
    return RankView("dflbench rank", subtitle, views, list(ranking.notes), legend)


def metric_view(m: MetricRanking, alpha: float) -> MetricRankView:
    better = "higher" if m.higher_is_better else "lower"
    title = (f"{m.title} ({better} is better): {plural(m.n_datasets, 'dataset')} ranked × "
             f"{losses(len(m.treatments))}")
    notes = list(m.notes) + [f"{d} left out: {why}" for d, why in m.left_out.items()]
    return MetricRankView(m.metric, title, means_table(m), test_lines(m),
                          pairwise_table(m, alpha), cd_diagram(m), list(m.verdict), notes)


def means_table(m: MetricRanking) -> TableView:
    """Datasets × losses: mean (rank), best mean per dataset marked; an average-rank row."""
    rows = []
    for dataset, row in m.cells.items():
        ranked = dataset in m.ranks
        cells = [Cell(dataset if ranked else f"{dataset} (left out)")]
        for t in m.treatments:
            mean = row[t].mean
            text = "—" if mean is None else f"{mean:.{MEAN_DIGITS}f}"
            cells.append(Cell(f"{text} ({fmt_rank(m.ranks[dataset][t])})" if ranked else text))
        marks = mark_best([row[t].mean for t in m.treatments], m.higher_is_better, MEAN_DIGITS)
        for cell, best in zip(cells[1:], marks):
            cell.best = best and ranked
        rows.append(cells)
    if m.average_ranks:
        avg = [m.average_ranks[t] for t in m.treatments]
        rows.append([Cell("average rank", strong=True),
                     *[Cell(f"{r:.{RANK_DIGITS}f}") for r in avg]])
        _mark_lowest(rows[-1], avg)
    return TableView(f"{m.title}: mean (rank) per dataset", ["Dataset", *m.treatments], rows,
                     "best mean per dataset and best average rank marked (* or bold)")


def _mark_lowest(row: list[Cell], ranks: list[float]) -> None:
    """Mark the lowest average rank of the average-rank row."""
    for cell, best in zip(row[1:], mark_best(ranks, False, RANK_DIGITS)):
        cell.best = best


def test_lines(m: MetricRanking) -> list[str]:
    fr, idv = m.friedman, m.iman_davenport
    lines = [f"Friedman χ² = {fr.statistic:.3f}, p = {fmt_p(fr.p_value)}" if fr.statistic is not None
             else f"Friedman: skipped ({fr.note})"]
    if idv.statistic is not None:
        lines.append(f"Iman–Davenport F = {idv.statistic:.3f}, p = {fmt_p(idv.p_value)}")
    elif idv.p_value is not None:
        lines.append(f"Iman–Davenport: p = {fmt_p(idv.p_value)} ({idv.note})")
    if m.critical_difference is not None:
        lines.append(f"Nemenyi critical difference {m.critical_difference:.3f} "
                     f"({losses(len(m.treatments))}, {plural(m.n_datasets, 'dataset')})")
    return lines


def pairwise_table(m: MetricRanking, alpha: float) -> TableView | None:
    if not m.pairwise:
        return None
    rows = []
    for p in m.pairwise:
        significant = p.p_holm is not None and p.p_holm < alpha
        row = [Cell(p.a), Cell(p.b), Cell(f"{p.wins}/{p.ties}/{p.losses}"), Cell(fmt_p(p.p_value)),
               Cell(fmt_p(p.p_holm), strong=significant, tone=GOOD if significant else "")]
        if p.bayes is not None:
            row += [Cell(f"{v:.3f}", strong=v >= DECISION)
                    for v in (p.bayes.p_a, p.bayes.p_equivalent, p.bayes.p_b)]
        else:
            row += [Cell("—")] * 3
        rows.append(row)
    columns = ["A", "B", "A wins/ties/losses", "p", "Holm p", "P(A better)", "P(equivalent)",
               "P(B better)"]
    return TableView(f"{m.title}: pairs over {plural(m.n_datasets, 'dataset')}", columns, rows,
                     align=["left", "left"] + ["right"] * 6)


def cd_diagram(m: MetricRanking, width: int = DIAGRAM_WIDTH) -> list[str]:
    """Demšar's critical-difference diagram in text: the rank axis, the CD's length, each loss at
    its average rank, and a bar under each group the CD cannot separate."""
    k = len(m.treatments)
    if m.critical_difference is None or k < 2:
        return []
    order = sorted(m.treatments, key=lambda t: m.average_ranks[t])
    label = max(len(t) for t in order) + 7
    step = width / (k - 1)

    def col(rank: float) -> int:
        return round((rank - 1) * step)

    ticks = [" "] * (width + 1)
    axis = ["─"] * (width + 1)
    for r in range(1, k + 1):
        ticks[col(r)] = str(r)[-1]
        axis[col(r)] = "┼"
    axis[0], axis[-1] = "├", "┤"
    cd_end = min(width, col(1 + m.critical_difference))
    lines = [" " * label + "".join(ticks) + "   (average rank, 1 = best)",
             " " * label + "".join(axis),
             f"{'CD':<{label}}" + "├" + "─" * max(0, cd_end - 1) + "┤" + f" {m.critical_difference:.2f}"]
    for t in order:
        lines.append(f"{t:<{label - 6}}{m.average_ranks[t]:5.2f} " + " " * col(m.average_ranks[t]) + "●")
    for group in m.groups:
        lo, hi = col(m.average_ranks[group[0]]), col(m.average_ranks[group[-1]])
        lines.append(" " * (label + lo) + "━" * (hi - lo + 1) + f"  {group[0]} … {group[-1]}")
    return lines


def verdict_view(ranking: Ranking) -> VerdictView:
    """The verdict section of a suite report (``ranking`` of one result)."""
    n = len(ranking.datasets)
    if n < 2:
        held = f"one dataset ({ranking.datasets[0]})" if n else "no dataset"
        return VerdictView("Across datasets", None, [("", [
            f"This result holds {held}: ranks and tests across datasets need at least two."])])
    metrics = list(ranking.metrics.values())
    treatments = [t for t in ranking.treatments if any(t in m.average_ranks for m in metrics)]
    rows = [[Cell(t), *[Cell("—" if t not in m.average_ranks else f"{m.average_ranks[t]:.{RANK_DIGITS}f}")
                        for m in metrics]] for t in treatments]
    for col, m in enumerate(metrics, start=1):
        mark_column(rows, col, [m.average_ranks.get(t) for t in treatments], False, RANK_DIGITS)
    table = TableView(f"Average rank, {plural(n, 'dataset')}",
                      ["Loss", *[m.title for m in metrics]], rows,
                      "1 = best; best per column marked (* or bold); 'dflbench rank' shows the "
                      "tests in full")
    shared = [line for line in metrics[0].verdict
              if len(metrics) > 1 and all(line in m.verdict for m in metrics)]
    sections = [(m.title, [line for line in m.verdict if line not in shared]) for m in metrics]
    return VerdictView("Verdict across datasets", table, sections, shared + list(ranking.notes))
