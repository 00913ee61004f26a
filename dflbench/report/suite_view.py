"""The view of a :class:`SuiteResult` every renderer draws: per dataset a header, a summary table
and a per-class table, then the treatments' legend, the verdict across datasets and a footer.
Renderers only format it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dflbench.metrics import METRICS
from dflbench.ranking import Ranking, rank_results
from dflbench.report.cells import Cell, TableView, fmt_mean_std, mark_best, mark_column, plural
from dflbench.report.rank_view import VerdictView, verdict_view
from dflbench.results.model import DatasetInfo, RunRecord, Stat, SuiteResult, SummaryRow

#: Above this many classes the per-class table lists classes as rows, so it stays readable.
TRANSPOSE_ABOVE = 5
#: Digits shown (and compared when marking the best cell): summary figures, per-class figures.
SUMMARY_DIGITS, CLASS_DIGITS, LEARNED_DIGITS = 3, 2, 2


@dataclass
class DatasetView:
    name: str
    header: str
    summary: TableView
    per_class: TableView
    notes: list[str] = field(default_factory=list)


@dataclass
class SuiteView:
    title: str
    protocol: str
    datasets: list[DatasetView]
    legend: list[str]
    footer: str
    verdict: VerdictView | None = None


def fmt_stat(stat: Stat | None, digits: int = SUMMARY_DIGITS) -> str:
    return "—" if stat is None else fmt_mean_std(stat.mean, stat.std, digits)


def protocol_text(record: dict[str, Any], n_seeds: int) -> str:
    """The protocol as the report header states it."""
    again = "" if record.get("repeats", 1) == 1 else f" × {record['repeats']} repeats"
    if record.get("kind") == "cv":
        how = f"{record.get('folds')}-fold stratified cross-validation{again}"
    else:
        how = f"stratified holdout ({record.get('test_size', '?')} of the samples tested){again}"
    seed = f", split seed {record['split_seed']}" if "split_seed" in record else ""
    return f"protocol: {how}{seed}; {plural(n_seeds, 'seed')} per split"


def dataset_header(info: DatasetInfo) -> str:
    counts = info.class_counts
    n_train, n_test = sum(counts["train"].values()), sum(counts["test"].values())
    first = f"split 1 of {len(info.splits)}: " if info.splits else ""
    how = ""
    if info.imbalance:
        # Sorted (profile first) so a result re-read from sorted-key JSON renders identically.
        items = sorted(info.imbalance.items(), key=lambda kv: (kv[0] != "profile", kv[0]))
        how = ", ".join(f"{k} {v}" for k, v in items)
    if info.kind == "segmentation":  # whole images are split and dropped; pixels are counted
        shape = "×".join(str(v) for v in info.input_shape)
        how = how and ", synthesized (images dropped by their rarest class): " + how
        return (f"{info.description or info.source} · {info.n_samples} images {shape}, "
                f"{info.n_classes} classes · {first}labelled pixels: train {n_train:,} / test "
                f"{n_test:,} · train pixel imbalance ratio {info.imbalance_ratio:.1f}{how} · "
                f"rarest class '{info.minority_class}'")
    how = how and ", synthesized: " + how
    return (
        f"{info.description or info.source} · {info.n_samples} samples, "
        f"{info.n_features} features, {info.n_classes} classes · {first}train {n_train} / "
        f"test {n_test} · train imbalance ratio {info.imbalance_ratio:.1f}{how} · "
        f"minority class '{info.minority_class}'"
    )


def shown_metrics(result: SuiteResult) -> list[str]:
    """The suite's metrics that this dflbench knows (a newer file may name others)."""
    return [m for m in result.metric_names or METRICS if m in METRICS]


def suite_ranking(result: SuiteResult) -> Ranking:
    """The suite's metrics ranked across its datasets (every test at its default settings)."""
    return rank_results([(result.name, result)], shown_metrics(result))


def build_suite_view(result: SuiteResult) -> SuiteView:
    n_seeds = len({r.seed for r in result.runs})
    verdict = verdict_view(suite_ranking(result)) if result.runs else None
    return SuiteView(f"dflbench: {result.name}", protocol_text(result.protocol, n_seeds),
                     dataset_views(result), legend(result), run_footer(result), verdict)


def dataset_views(result: SuiteResult) -> list[DatasetView]:
    """Each dataset's header and tables (without the verdict across datasets, which ranks)."""
    metrics = shown_metrics(result)
    views = []
    for info in result.datasets:
        rows = [r for r in result.summary if r.dataset == info.name]
        notes = [*_cache_note(result, info.name),
                 *[_failure_note(result, info.name, r) for r in rows if r.n_ok < r.n_runs]]
        runs = [r for r in result.runs if r.dataset == info.name]
        views.append(DatasetView(info.name, dataset_header(info),
                                 _summary_table(info, rows, metrics, _over(runs)),
                                 _per_class_table(info, rows), notes))
    return views


def _over(runs: list[RunRecord]) -> str:
    """``(2 repeats × 5 folds × 3 seeds)`` when runs span several splits, else ``""``."""
    parts = [(len({r.repeat for r in runs}), "repeat"), (len({(r.fold) for r in runs}), "fold")]
    if all(n == 1 for n, _ in parts):
        return ""
    parts.append((len({r.seed for r in runs}), "seed"))
    return " (" + " × ".join(plural(n, word) for n, word in parts) + ")"


def _summary_table(info: DatasetInfo, rows: list[SummaryRow], metrics: list[str],
                   over: str = "") -> TableView:
    """Mean ± std of each metric (and learned parameter) per treatment; best mean marked."""
    learned = sorted({name for r in rows for name in r.learned})
    columns = ["Loss", *[METRICS[m].title for m in metrics], *[f"learned {n}" for n in learned]]
    table = [[Cell(r.label), *[Cell(fmt_stat(r.metrics.get(m))) for m in metrics],
              *[Cell(fmt_stat(r.learned.get(n), LEARNED_DIGITS)) for n in learned]] for r in rows]
    for col, m in enumerate(metrics, start=1):
        means = [None if r.metrics.get(m) is None else r.metrics[m].mean for r in rows]
        mark_column(table, col, means, METRICS[m].higher_is_better, SUMMARY_DIGITS)
    n_ok = max((r.n_ok for r in rows), default=0)
    return TableView(f"{info.name}: mean ± std over {plural(n_ok, 'run')}{over}", columns, table,
                     "best mean per column marked (* or bold); ECE: lower is better")


def _per_class_table(info: DatasetInfo, rows: list[SummaryRow]) -> TableView:
    """Recall / F1 per (treatment, class), best F1 per class marked; classes become rows when
    there are many of them (10 digits, 100 image folders) and columns otherwise."""
    if info.kind == "segmentation":
        return _pixel_class_table(info, rows)
    classes = info.class_names
    train, test = info.class_counts["train"], info.class_counts["test"]
    by_row = [{pc.label: pc for pc in r.per_class} for r in rows]
    cells = [[_class_cell(found.get(c)) for c in classes] for found in by_row]
    for i, c in enumerate(classes):
        f1 = [None if found.get(c) is None else found[c].f1.mean for found in by_row]
        mark_column(cells, i, f1, True, CLASS_DIGITS)
    title = f"{info.name}: per-class recall / F1 (mean over runs)"
    caption = "best F1 per class marked (* or bold)"
    if len(classes) > TRANSPOSE_ABOVE:
        columns = ["Class (train/test)", *[r.label for r in rows]]
        table = [[Cell(f"{c} ({train[c]}/{test[c]})")] + [cells[t][i] for t in range(len(rows))]
                 for i, c in enumerate(classes)]
        return TableView(title, columns, table, caption)
    columns = ["Loss", *[f"{c} (train {train[c]}/test {test[c]})" for c in classes]]
    return TableView(title, columns, [[Cell(r.label), *cells[t]] for t, r in enumerate(rows)], caption)


def _pixel_class_table(info: DatasetInfo, rows: list[SummaryRow]) -> TableView:
    """IoU / Dice / recall per (class, treatment), classes as rows with their share of the
    training pixels, best IoU per class marked."""
    train = info.class_counts["train"]
    total = sum(train.values()) or 1
    by_row = [{pc.label: pc for pc in r.per_class} for r in rows]
    table = []
    for c in info.class_names:
        found = [by.get(c) for by in by_row]
        cells = [_pixel_cell(pc) for pc in found]
        iou = [None if pc is None or pc.iou is None else pc.iou.mean for pc in found]
        for cell, best in zip(cells, mark_best(iou, True, CLASS_DIGITS)):
            cell.best = best
        table.append([Cell(f"{c} ({100 * train[c] / total:.2g} %)"), *cells])
    return TableView(f"{info.name}: per-class IoU / Dice / recall over pixels (mean over runs)",
                     ["Class (train pixels)", *[r.label for r in rows]], table,
                     "best IoU per class marked (* or bold)")


def _pixel_cell(pc: object) -> Cell:
    iou, dice, recall = (getattr(getattr(pc, k, None), "mean", None) for k in ("iou", "f1", "recall"))
    if iou is None or dice is None or recall is None:
        return Cell("—")
    return Cell(f"{iou:.{CLASS_DIGITS}f} / {dice:.{CLASS_DIGITS}f} / {recall:.{CLASS_DIGITS}f}")


def _class_cell(pc: object) -> Cell:
    recall, f1 = getattr(pc, "recall", None), getattr(pc, "f1", None)
    if recall is None or f1 is None or recall.mean is None or f1.mean is None:
        return Cell("—")
    return Cell(f"{recall.mean:.{CLASS_DIGITS}f} / {f1.mean:.{CLASS_DIGITS}f}")


def _cache_note(result: SuiteResult, dataset: str) -> list[str]:
    """A line saying the dataset's figures came from the task cache, and from which run."""
    cache = result.cache if isinstance(result.cache, dict) else {}
    if dataset not in (cache.get("reused") or []):
        return []
    origin = (cache.get("origins") or {}).get(dataset) or {}
    run = f"the run of {origin['created']}" if origin.get("created") else "an earlier run"
    suite = f", suite {origin['suite']}" if origin.get("suite") not in (None, result.name) else ""
    where = f", {origin['result']}" if origin.get("result") else ""
    return [f"reused from the task cache: computed by {run}{suite}{where}"]


def _failure_note(result: SuiteResult, dataset: str, row: SummaryRow) -> str:
    bad = [r for r in result.runs if r.dataset == dataset and r.label == row.label and not r.ok]
    kinds = sorted({r.status.value for r in bad})
    first = (bad[0].error or "") if bad else ""
    return (f"{row.label}: {len(bad)} of {row.n_runs} runs {'/'.join(kinds)}"
            + (f" ({first})" if first else ""))


def legend(result: SuiteResult) -> list[str]:
    """One line per treatment: its label, the loss it uses (with its paper), its sampler and,
    when any treatment is tuned, how each was tuned (an untuned one is flagged as such)."""
    lines, seen = [], set()
    tuned = any(r.tuning for r in result.runs)
    for row in result.summary:
        t = row.treatment
        if t.label in seen:
            continue
        seen.add(t.label)
        params = ", ".join(f"{k}={v}" for k, v in sorted(t.loss_params.items()))
        line = (f"{t.label}: {t.loss_title}" + (f" ({params})" if params else "")
                + (f", trained on data resampled by {t.sampler}" if t.sampler else ""))
        if tuned:
            line += "; " + tuning_text([r for r in result.runs if r.label == t.label])
        lines.append(line)
    return lines


def tuning_text(runs: list[RunRecord]) -> str:
    """How a treatment was tuned: its grid, the metric and what each split chose."""
    from collections import Counter

    records = {(r.dataset, r.repeat, r.fold): r.tuning for r in runs if r.tuning is not None}
    if not records:
        return "untuned (1 configuration)"
    first = next(iter(records.values()))
    grid = " | ".join(_config(c) for c in first.grid)
    chosen = Counter(_config(rec.chosen) for rec in records.values())
    picks = ", ".join(f"{c} ×{n}" for c, n in chosen.most_common())
    return (f"tuned on {first.metric} over {plural(len(first.grid), 'configuration')} ({grid}); "
            f"chosen per split: {picks}")


def _config(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items()) or "default"


def run_footer(result: SuiteResult) -> str:
    env = result.environment
    state = "" if result.complete else " · INCOMPLETE (interrupted)"
    return (f"suite {result.name} · dflbench {result.dflbench_version} · "
            f"torch {env.get('torch')} on {env.get('device')} · {result.created}{state}")
