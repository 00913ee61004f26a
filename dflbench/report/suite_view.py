"""The view of a :class:`SuiteResult` every renderer draws: per dataset a header, a summary table
and a per-class table, then the treatments' legend and a footer. Renderers only format it."""

from __future__ import annotations

from dataclasses import dataclass, field

from dflbench.metrics import METRICS
from dflbench.report.cells import Cell, TableView, fmt_mean_std, mark_column, plural
from dflbench.results.model import DatasetInfo, Stat, SuiteResult, SummaryRow

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
    datasets: list[DatasetView]
    legend: list[str]
    footer: str


def fmt_stat(stat: Stat | None, digits: int = SUMMARY_DIGITS) -> str:
    return "—" if stat is None else fmt_mean_std(stat.mean, stat.std, digits)


def dataset_header(info: DatasetInfo) -> str:
    counts = info.class_counts
    n_train, n_test = sum(counts["train"].values()), sum(counts["test"].values())
    how = ""
    if info.imbalance:
        # Sorted (profile first) so a result re-read from sorted-key JSON renders identically.
        items = sorted(info.imbalance.items(), key=lambda kv: (kv[0] != "profile", kv[0]))
        how = ", synthesized: " + ", ".join(f"{k} {v}" for k, v in items)
    return (
        f"{info.description or info.source} · {info.n_samples} samples, "
        f"{info.n_features} features, {info.n_classes} classes · train {n_train} / "
        f"test {n_test} · train imbalance ratio {info.imbalance_ratio:.1f}{how} · "
        f"minority class '{info.minority_class}'"
    )


def shown_metrics(result: SuiteResult) -> list[str]:
    """The suite's metrics that this dflbench knows (a newer file may name others)."""
    return [m for m in result.metric_names or METRICS if m in METRICS]


def build_suite_view(result: SuiteResult) -> SuiteView:
    metrics = shown_metrics(result)
    views = []
    for info in result.datasets:
        rows = [r for r in result.summary if r.dataset == info.name]
        notes = [*_cache_note(result, info.name),
                 *[_failure_note(result, info.name, r) for r in rows if r.n_ok < r.n_runs]]
        views.append(DatasetView(info.name, dataset_header(info), _summary_table(info, rows, metrics),
                                 _per_class_table(info, rows), notes))
    return SuiteView(f"dflbench: {result.name}", views, legend(result), run_footer(result))


def _summary_table(info: DatasetInfo, rows: list[SummaryRow], metrics: list[str]) -> TableView:
    """Mean ± std of each metric (and learned parameter) per treatment; best mean marked."""
    learned = sorted({name for r in rows for name in r.learned})
    columns = ["Loss", *[METRICS[m].title for m in metrics], *[f"learned {n}" for n in learned]]
    table = [[Cell(r.label), *[Cell(fmt_stat(r.metrics.get(m))) for m in metrics],
              *[Cell(fmt_stat(r.learned.get(n), LEARNED_DIGITS)) for n in learned]] for r in rows]
    for col, m in enumerate(metrics, start=1):
        means = [None if r.metrics.get(m) is None else r.metrics[m].mean for r in rows]
        mark_column(table, col, means, METRICS[m].higher_is_better, SUMMARY_DIGITS)
    n_ok = max((r.n_ok for r in rows), default=0)
    return TableView(f"{info.name}: mean ± std over {plural(n_ok, 'run')}", columns, table,
                     "best mean per column marked (* or bold); ECE: lower is better")


def _per_class_table(info: DatasetInfo, rows: list[SummaryRow]) -> TableView:
    """Recall / F1 per (treatment, class), best F1 per class marked; classes become rows when
    there are many of them (10 digits, 100 image folders) and columns otherwise."""
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
    """One line per treatment: its label, the loss it uses (with its paper) and its sampler."""
    lines, seen = [], set()
    for row in result.summary:
        t = row.treatment
        if t.label in seen:
            continue
        seen.add(t.label)
        params = ", ".join(f"{k}={v}" for k, v in sorted(t.loss_params.items()))
        lines.append(f"{t.label}: {t.loss_title}" + (f" ({params})" if params else "")
                     + (f", trained on data resampled by {t.sampler}" if t.sampler else ""))
    return lines


def run_footer(result: SuiteResult) -> str:
    env = result.environment
    state = "" if result.complete else " · INCOMPLETE (interrupted)"
    return (f"suite {result.name} · dflbench {result.dflbench_version} · "
            f"torch {env.get('torch')} on {env.get('device')} · {result.created}{state}")
