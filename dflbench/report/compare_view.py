"""The view of a :class:`dflbench.compare.Comparison` every renderer draws: a headline, the files,
regressions, the biggest movers and one table per dataset. Nothing here computes a delta or a
verdict; it only selects and formats what the comparison holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dflbench.compare import (
    N_MOVERS,
    AcrossDatasets,
    ClassDelta,
    Comparison,
    MetricDelta,
    PairComparison,
    Stat,
)
from dflbench.metrics import METRICS
from dflbench.ranking.verdict import p_is
from dflbench.report.cells import BAD, GOOD, WARN, Cell, TableView, fmt_mean_std


@dataclass
class DatasetCompare:
    name: str
    table: TableView
    per_class: TableView | None = None


@dataclass
class CompareView:
    headline: str
    headline_tone: str
    files: TableView
    regressions: list[str]
    movers: TableView | None
    datasets: list[DatasetCompare]
    unaligned: list[str]
    notes: list[str]
    legend: str
    counts: list[str] = field(default_factory=list)
    #: Per candidate and gated metric: worse on how many datasets, and the Wilcoxon p over them.
    across: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Formatting helpers


def labels(comparison: Comparison) -> dict[str, str]:
    """Short column labels per file path: the file stems when they are unique, else the paths."""
    paths = [comparison.baseline.path, *[c.path for c in comparison.candidates]]
    stems = [Path(p).stem for p in paths]
    use = stems if len(set(stems)) == len(set(paths)) else paths
    return dict(zip(paths, use))


def fmt_stat(stat: Stat, n_max: int | None = None, digits: int = 3) -> str:
    """``mean ± std``, with ``(n=K)`` when only K of ``n_max`` runs had a value."""
    text = fmt_mean_std(stat.mean, stat.std, digits)
    if stat.mean is not None and n_max is not None and stat.n < n_max:
        text += f" (n={stat.n})"
    return text


def fmt_delta(delta: float | None) -> str:
    if delta is None:
        return "—"
    if abs(delta) <= 1e-9:  # means of identical values can differ by float noise
        return "0.000"
    if abs(delta) < 0.0005:
        return f"{delta:+.1e}"
    return f"{delta:+.3f}"


def fmt_p(m: MetricDelta) -> str:
    if m.p_value is None:
        return "—"
    p = "<0.001" if m.p_value < 0.001 else f"{m.p_value:.3f}"
    return p + ("*" if m.beyond_noise else "")


def _tone(gain: float | None, regression: bool | None, direction: str) -> str:
    if regression:
        return BAD
    if direction == "better":
        return GOOD
    if direction == "worse":
        return WARN if regression is False else BAD
    return ""


def verdict_text(m: MetricDelta) -> str:
    if m.regression:
        return "REGRESSION"
    if m.direction == "worse" and m.regression is False:
        return "worse (ok)"
    return m.direction


def regression_lines(comparison: Comparison) -> list[str]:
    """One line per failing (file, dataset, treatment, metric): means, delta, allowance, p."""
    lines = []
    for pair, m in comparison.regressions:
        base = "—" if m.baseline.mean is None else f"{m.baseline.mean:.4f}"
        cand = "—" if m.candidate.mean is None else f"{m.candidate.mean:.4f}"
        delta = "—" if m.delta is None else f"{m.delta:+.4f}"
        allowed = "—" if m.allowance is None else f"{m.allowance:.4f}"
        allowed = (f"allowed drop {allowed}" if METRICS[m.metric].higher_is_better
                   else f"allowed rise {allowed} (lower is better)")
        if m.p_value is not None:
            noise = "beyond seed noise" if m.beyond_noise else "within seed noise"
            p = f"p={m.p_value:.3g} ({m.test}, {noise})"
        else:
            p = f"p=n/a ({m.p_note})" if m.p_note else "p=n/a"
        why = f"; {m.reason}" if m.reason and m.candidate.mean is None else ""
        lines.append(f"{pair.file}: {pair.dataset} / {pair.treatment} / {m.metric}: baseline {base}, "
                     f"candidate {cand}, delta {delta}, {allowed} "
                     f"(--max-drop {comparison.max_drop}); {p}{why}")
    return lines


def _summary_counts(comparison: Comparison, lab: dict[str, str]) -> list[str]:
    out = []
    for cand in comparison.candidates:
        rows = [m for p in comparison.pairs if p.file == cand.path for m in p.metrics
                if m.metric in comparison.gated]
        n_pairs = len({(p.dataset, p.treatment) for p in comparison.pairs if p.file == cand.path})
        count = {k: sum(1 for m in rows if m.direction == k) for k in ("better", "worse", "same")}
        regress = sum(1 for m in rows if m.regression)
        text = (f"{lab[cand.path]}: {n_pairs} aligned (dataset, loss) pairs; on "
                f"{', '.join(comparison.gated)}: {count['better']} better, {count['worse']} worse, "
                f"{count['same']} same")
        if comparison.gate:
            text += f", {regress} regression{'s' if regress != 1 else ''}"
        out.append(text)
    return out


def across_line(a: AcrossDatasets, label: str) -> str:
    """``cand: MacroF1 across 8 datasets: worse on 2, better on 5, same on 1; Wilcoxon p = 0.38``."""
    title = METRICS[a.metric].title
    if a.n_datasets == 0:
        return f"{label}: {title} across datasets: no dataset has a value on both sides"
    p = f"Wilcoxon signed-rank {p_is(a.p_value)}" + (f" ({a.p_note})" if a.p_note else "")
    return (f"{label}: {title} across {a.n_datasets} dataset{'s' if a.n_datasets != 1 else ''} "
            f"(each the mean of its aligned losses): worse on {a.worse}, better on {a.better}, "
            f"same on {a.same}; {p}")


# ---------------------------------------------------------------------------------------------
# The view


def build_view(comparison: Comparison) -> CompareView:
    lab = labels(comparison)
    gated = ", ".join(comparison.gated)
    n_reg = len(comparison.regressions)
    if comparison.verdict == "regression":
        files = {p.file for p, _ in comparison.regressions}
        headline = (f"REGRESSION: {n_reg} (dataset, loss, metric) "
                    f"drop{'s' if n_reg != 1 else ''} beyond the allowed {comparison.max_drop} "
                    f"({gated}) in {len(files)} file{'s' if len(files) != 1 else ''}")
        tone = BAD
    elif comparison.verdict == "ok":
        headline = f"no regression: nothing dropped more than the allowed {comparison.max_drop} ({gated})"
        tone = GOOD
    else:
        headline = "report only: no --max-drop given, so no gate was applied"
        tone = ""

    files_rows = []
    for role, info in [("baseline", comparison.baseline)] + [("candidate", c)
                                                               for c in comparison.candidates]:
        files_rows.append([Cell(role), Cell(info.path), Cell(info.suite), Cell(str(info.n_seeds)),
                           Cell(info.created), Cell(info.dflbench_version)])
    files = aligned(TableView("Files", ["Role", "File", "Suite", "Seeds", "Created", "dflbench"],
                              files_rows))

    movers = _movers_table(comparison, lab)
    datasets = []
    for dataset in comparison.datasets:
        datasets.append(DatasetCompare(
            dataset, _dataset_table(comparison, dataset, lab),
            _per_class_table(comparison, dataset, lab) if comparison.per_class else None))

    legend = ("Δ = candidate − baseline, means ± std over each file's successful seeds; "
              "(n=K): only K seeds succeeded; ECE: lower is better. "
              "p: two-sided paired t-test when both files hold the same "
              f"seeds (≥ 2), else Welch's t-test; * p < {comparison.alpha:g} (beyond seed noise). ")
    if comparison.gate:
        legend += (f"Gate on {gated} (listed first): a drop of more than {comparison.max_drop} is "
                   "a REGRESSION, a smaller one 'worse (ok)'; the p-value informs, it does not "
                   "decide. ")
    legend += f"Bold Δ: each file's {N_MOVERS} largest movers on {gated}."
    base_name = comparison.baseline.path
    return CompareView(
        headline=headline, headline_tone=tone, files=files,
        regressions=regression_lines(comparison), movers=movers, datasets=datasets,
        unaligned=[u.describe(base_name) for u in comparison.unaligned],
        notes=list(comparison.notes), legend=legend, counts=_summary_counts(comparison, lab),
        across=[across_line(a, lab[a.file]) for a in comparison.across],
    )


def _metric_cells(m: MetricDelta | None, n_max: int | None) -> list[Cell]:
    if m is None:
        return [Cell("—"), Cell("—"), Cell("—"), Cell("not in file")]
    tone = _tone(m.gain, m.regression, m.direction)
    return [
        Cell(fmt_stat(m.candidate, n_max)),
        Cell(fmt_delta(m.delta), strong=m.mover, tone=tone),
        Cell(fmt_p(m)),
        Cell(verdict_text(m), strong=bool(m.regression), tone=tone, verdict=True),
    ]


def _pairs_by(comparison: Comparison, dataset: str) -> dict[tuple[str, str], PairComparison]:
    return {(p.file, p.treatment): p for p in comparison.pairs if p.dataset == dataset}


def _treatments(comparison: Comparison, dataset: str) -> list[str]:
    return list(dict.fromkeys(p.treatment for p in comparison.pairs if p.dataset == dataset))


def _dataset_table(comparison: Comparison, dataset: str, lab: dict[str, str]) -> TableView:
    cands = comparison.candidates
    base_label = lab[comparison.baseline.path]
    columns = ["Loss", "Metric", f"{base_label} (baseline)"]
    for c in cands:
        suffix = "" if len(cands) == 1 else f" {lab[c.path]}"
        columns += [lab[c.path], f"Δ{suffix}", f"p{suffix}", f"verdict{suffix}"]
    by = _pairs_by(comparison, dataset)
    rows = []
    for treatment in _treatments(comparison, dataset):
        for i, metric in enumerate(comparison.metrics):
            row: list[Cell] = [Cell(treatment if i == 0 else "")]
            row.append(Cell(METRICS[metric].title))
            base_cell: str | None = None
            cells: list[Cell] = []
            for c in cands:
                pair = by.get((c.path, treatment))
                m = None if pair is None else next((x for x in pair.metrics if x.metric == metric), None)
                if m is not None and base_cell is None:
                    base_cell = fmt_stat(m.baseline, comparison.baseline.n_seeds)
                cells += _metric_cells(m, c.n_seeds)
            row.append(Cell(base_cell or "—"))
            rows.append(row + cells)
    n_b = comparison.baseline.n_seeds
    seeds = ", ".join(f"{lab[c.path]} ({c.n_seeds} seeds)" for c in cands)
    return aligned(TableView(title=f"{dataset}: {base_label} (baseline, {n_b} seeds) vs {seeds}",
                             columns=columns, rows=rows, grouped=True))


def _class_cells(d: ClassDelta) -> list[Cell]:
    def tone(delta: float | None) -> str:
        if delta is None or abs(delta) <= 1e-9:
            return ""
        return GOOD if delta > 0 else BAD

    r, f = d.recall_delta, d.f1_delta
    return [Cell(_mean(d.recall[1])), Cell(fmt_delta(r), tone=tone(r)),
            Cell(_mean(d.f1[1])), Cell(fmt_delta(f), tone=tone(f))]


def _mean(stat: Stat) -> str:
    return "—" if stat.mean is None else f"{stat.mean:.3f}"


def _per_class_table(comparison: Comparison, dataset: str, lab: dict[str, str]) -> TableView:
    cands = comparison.candidates
    base_label = lab[comparison.baseline.path]
    columns = ["Loss", "Class", f"recall {base_label}", f"F1 {base_label}"]
    for c in cands:
        n = lab[c.path]
        columns += [f"recall {n}", "Δ recall" if len(cands) == 1 else f"Δ recall {n}",
                    f"F1 {n}", "Δ F1" if len(cands) == 1 else f"Δ F1 {n}"]
    by = _pairs_by(comparison, dataset)
    rows = []
    for treatment in _treatments(comparison, dataset):
        per_file = {c.path: by.get((c.path, treatment)) for c in cands}
        class_labels = list(dict.fromkeys(d.label for p in per_file.values() if p
                                          for d in p.per_class))
        for i, label in enumerate(class_labels):
            row: list[Cell] = [Cell(treatment if i == 0 else ""), Cell(label)]
            base: ClassDelta | None = None
            cells: list[Cell] = []
            for c in cands:
                pair = per_file[c.path]
                d = None if pair is None else next((x for x in pair.per_class if x.label == label), None)
                if d is None:
                    cells += [Cell("—")] * 4
                    continue
                base = base or d
                cells += _class_cells(d)
            row += [Cell(_mean(base.recall[0]) if base else "—"),
                    Cell(_mean(base.f1[0]) if base else "—")]
            rows.append(row + cells)
    return aligned(TableView(title=f"{dataset}: per-class recall / F1 (means over seeds)",
                             columns=columns, rows=rows, caption="Δ = candidate − baseline",
                             grouped=True))


def _movers_table(comparison: Comparison, lab: dict[str, str]) -> TableView | None:
    several = len(comparison.candidates) > 1
    rows = []
    for c in comparison.candidates:
        for pair, m in comparison.movers(c.path):
            tone = _tone(m.gain, m.regression, m.direction)
            row: list[Cell] = [Cell(lab[c.path])] if several else []
            row += [Cell(pair.dataset), Cell(pair.treatment), Cell(METRICS[m.metric].title),
                    Cell(fmt_stat(m.baseline)), Cell(fmt_stat(m.candidate)),
                    Cell(fmt_delta(m.delta), strong=True, tone=tone), Cell(fmt_p(m)),
                    Cell(verdict_text(m), strong=bool(m.regression), tone=tone, verdict=True)]
            rows.append(row)
    if not rows:
        return None
    columns = (["File"] if several else []) + ["Dataset", "Loss", "Metric", "baseline", "candidate",
                                               "Δ", "p", "verdict"]
    return aligned(TableView(title=f"Biggest movers (largest |Δ| on {', '.join(comparison.gated)})",
                             columns=columns, rows=rows))


_NUMERIC = re.compile(r"^([+-]?\d|<\d|—$)")


def aligned(view: TableView) -> TableView:
    """Right-align the columns whose every filled cell reads as a number, left-align the rest."""
    view.align = []
    for i in range(len(view.columns)):
        texts = [row[i].text for row in view.rows if row[i].text]
        numeric = bool(texts) and all(_NUMERIC.match(t) for t in texts)
        view.align.append("right" if numeric else "left")
    return view
