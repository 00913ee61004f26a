"""A renderer-neutral view of a SuiteResult: per dataset, a header, a summary table and a per-class
table as strings, with the best cell of each column flagged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dflbench.metrics import METRICS
from dflbench.results import SuiteResult


@dataclass
class Cell:
    text: str
    best: bool = False


@dataclass
class TableView:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class DatasetView:
    name: str
    header: str
    summary: TableView
    per_class: TableView
    notes: list[str] = field(default_factory=list)


def fmt_stat(stat: dict[str, Any] | None, digits: int = 3) -> str:
    if not stat or stat.get("mean") is None:
        return "—"
    mean = f"{stat['mean']:.{digits}f}"
    return mean if stat.get("std") is None else f"{mean} ± {stat['std']:.{digits}f}"


def _flag_best(rows: list[list[Cell]], values: list[list[float | None]], higher: list[bool],
               first: int = 1) -> None:
    """Mark, per value column, the cells whose value equals the column's best (ties all marked);
    value column ``col`` is cell ``first + col`` of its row (after the row's label cells)."""
    for col, better_high in enumerate(higher):
        column = [v[col] for v in values if v[col] is not None]
        if len(column) < 2 or max(column) - min(column) < 1e-12:
            continue  # nothing to single out when every row ties
        best = max(column) if better_high else min(column)
        for r, v in enumerate(values):
            if v[col] is not None and abs(v[col] - best) < 1e-12:
                rows[r][first + col].best = True


def _mean(stat: dict[str, Any] | None) -> float | None:
    return None if not stat else stat.get("mean")


def dataset_header(info: dict[str, Any]) -> str:
    counts = info["class_counts"]
    n_train, n_test = sum(counts["train"].values()), sum(counts["test"].values())
    imb = info.get("imbalance")
    how = ""
    if imb:
        # Sorted (profile first) so a result re-read from sorted-key JSON renders identically.
        items = sorted(imb.items(), key=lambda kv: (kv[0] != "profile", kv[0]))
        how = ", synthesized: " + ", ".join(f"{k} {v}" for k, v in items)
    return (
        f"{info['description'] or info['source']} · {info['n_samples']} samples, "
        f"{info['n_features']} features, {info['n_classes']} classes · train {n_train} / "
        f"test {n_test} · train imbalance ratio {info['imbalance_ratio']:.1f}{how} · "
        f"minority class '{info['minority_class']}'"
    )


def build_views(result: SuiteResult) -> list[DatasetView]:
    # A file from a newer dflbench may name metrics this one does not know: show the known ones.
    metrics = [m for m in result.suite.get("config", {}).get("metrics") or METRICS if m in METRICS]
    views = []
    for info in result.datasets:
        rows = [r for r in result.summary if r["dataset"] == info["name"]]
        learned = sorted({name for r in rows for name in r.get("learned", {})})
        columns = ["Loss", *[METRICS[m].title for m in metrics], *[f"learned {n}" for n in learned]]
        table_rows, values = [], []
        notes = []
        for row in rows:
            cells = [Cell(row["treatment"])]
            vals: list[float | None] = []
            for m in metrics:
                stat = row["metrics"].get(m)
                cells.append(Cell(fmt_stat(stat)))
                vals.append(_mean(stat))
            for name in learned:
                cells.append(Cell(fmt_stat(row.get("learned", {}).get(name), 2)))
            table_rows.append(cells)
            values.append(vals)
            if row["n_seeds"] < row["n_runs"]:
                notes.append(_failure_note(result, info["name"], row))
        _flag_best(table_rows, values, [METRICS[m].higher_is_better for m in metrics])
        n_seeds = max((r["n_seeds"] for r in rows), default=0)
        summary = TableView(
            title=f"{info['name']}: mean ± std over {n_seeds} seed{'s' if n_seeds != 1 else ''}",
            columns=columns, rows=table_rows,
            caption="best mean per column marked (* or bold); ECE: lower is better",
        )
        per_class = _per_class_view(info, rows)
        views.append(DatasetView(info["name"], dataset_header(info), summary, per_class, notes))
    return views


#: Above this many classes the per-class table lists classes as rows, so it stays readable.
TRANSPOSE_ABOVE = 5


def _per_class_view(info: dict[str, Any], rows: list[dict[str, Any]]) -> TableView:
    """Recall / F1 per (treatment, class), best F1 per class marked; classes become rows when
    there are many of them (10 digits, 100 image folders) and columns otherwise."""
    classes = info["class_names"]
    train, test = info["class_counts"]["train"], info["class_counts"]["test"]
    cells: list[list[Cell]] = []
    values: list[list[float | None]] = []
    for row in rows:
        by_label = {pc["label"]: pc for pc in row["per_class"]}
        cells.append([])
        values.append([])
        for c in classes:
            pc = by_label.get(c)
            if pc is None or pc["recall"]["mean"] is None or pc["f1"]["mean"] is None:
                cells[-1].append(Cell("—"))
                values[-1].append(None)
            else:
                cells[-1].append(Cell(f"{pc['recall']['mean']:.2f} / {pc['f1']['mean']:.2f}"))
                values[-1].append(pc["f1"]["mean"])
    _flag_best(cells, values, [True] * len(classes), first=0)
    title = f"{info['name']}: per-class recall / F1 (mean over seeds)"
    caption = "best F1 per class marked (* or bold)"
    if len(classes) > TRANSPOSE_ABOVE:
        columns = ["Class (train/test)", *[r["treatment"] for r in rows]]
        table = [[Cell(f"{c} ({train[c]}/{test[c]})")] + [cells[t][i] for t in range(len(rows))]
                 for i, c in enumerate(classes)]
        return TableView(title, columns, table, caption)
    columns = ["Loss", *[f"{c} (train {train[c]}/test {test[c]})" for c in classes]]
    table = [[Cell(r["treatment"])] + cells[t] for t, r in enumerate(rows)]
    return TableView(title, columns, table, caption)


def _failure_note(result: SuiteResult, dataset: str, row: dict[str, Any]) -> str:
    bad = [r for r in result.runs if r["dataset"] == dataset and r["treatment"] == row["treatment"]
           and r["status"] != "ok"]
    kinds = sorted({r["status"] for r in bad})
    first = bad[0].get("error", "") if bad else ""
    return (f"{row['treatment']}: {len(bad)} of {row['n_runs']} runs {'/'.join(kinds)}"
            + (f" ({first})" if first else ""))


def legend(result: SuiteResult) -> list[str]:
    """One line per treatment: its label, the loss it uses (with its paper) and its sampler."""
    lines, seen = [], set()
    for row in result.summary:
        if row["treatment"] in seen:
            continue
        seen.add(row["treatment"])
        what = row.get("loss_title") or row.get("loss") or row["treatment"]
        params = ", ".join(f"{k}={v}" for k, v in sorted((row.get("loss_params") or {}).items()))
        sampler = row.get("sampler")
        lines.append(f"{row['treatment']}: {what}" + (f" ({params})" if params else "")
                     + (f", trained on data resampled by {sampler}" if sampler else ""))
    return lines


def run_footer(result: SuiteResult) -> str:
    env = result.environment
    state = "" if result.complete else " · INCOMPLETE (interrupted)"
    return (f"suite {result.suite['name']} · dflbench {result.dflbench_version} · "
            f"torch {env.get('torch')} on {env.get('device')} · {result.created}{state}")
