"""The data of the HTML report's charts, selected from typed results: per dataset the per-class
bars, confusion matrices, reliability bins, learning curves, learned-parameter trajectories and
tuning grids; across datasets the per-metric means that cross-dataset statistics rank.

The tables come from :mod:`.suite_view`. Like every view, this one computes no metric: it orders
classes, pools a treatment's runs (summed confusion counts, pooled bins) and groups classes, so a
chart shows what the result file holds. What a file lacks is said, never made up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dflbench.metrics import METRICS
from dflbench.report.samples_view import Samples, samples_view
from dflbench.results.model import DatasetInfo, RunRecord, Stat, SuiteResult, SummaryRow

#: Above this many classes the per-class bars show class groups (many / medium / few).
GROUP_ABOVE = 12
GROUPS = ("many", "medium", "few")


@dataclass(frozen=True)
class ClassBars:
    """Per-class (or per-group) recall and F1 of each treatment, majority class first."""

    classes: list[str]
    train_counts: list[str]  # "n" per class, "lo–hi" per group
    treatments: list[str]
    recall: list[list[float | None]]  # [treatment][class]
    f1: list[list[float | None]]
    recall_std: list[list[float | None]]
    f1_std: list[list[float | None]]
    grouped: bool = False
    unit: str = "rows"  # what a class counts: rows, or pixels for segmentation


@dataclass(frozen=True)
class Confusion:
    """One treatment's confusion matrix: counts summed over its runs, each row divided by its
    total (the share of a true class predicted as each class); classes majority first."""

    treatment: str
    classes: list[str]
    rows: list[list[float]]
    n_runs: int


@dataclass(frozen=True)
class Reliability:
    """One treatment's calibration bins pooled over its runs (rows summed, confidence and
    accuracy weighted by rows), and its ECE as the summary reports it (mean ± std over runs)."""

    treatment: str
    count: list[int]
    confidence: list[float | None]
    accuracy: list[float | None]
    ece: Stat | None
    n_runs: int


@dataclass(frozen=True)
class Curves:
    """One treatment's per-epoch series, one per run (``run`` names it: ``seed 0``)."""

    treatment: str
    runs: list[tuple[str, list[float | None]]]
    best_epochs: list[int | None] = field(default_factory=list)


@dataclass(frozen=True)
class Tuning:
    """A tuned treatment's validation score at each grid point (one list of scores per point, one
    score per run), and how many runs chose each point."""

    treatment: str
    points: list[str]
    scores: list[list[float]]
    chosen: list[int]
    metric: str = ""


@dataclass
class DatasetCharts:
    name: str
    treatments: list[str]
    bars: ClassBars | None
    confusion: list[Confusion]
    reliability: list[Reliability]
    loss: list[Curves]
    validation: list[Curves]
    monitor: str | None
    learned: dict[str, list[Curves]]  # parameter name → one Curves per treatment that learns it
    tuning: list[Tuning]
    missing: list[str]
    samples: Samples | None = None
    unit: str = "rows"  # what is counted and scored: rows, or pixels for segmentation


@dataclass(frozen=True)
class MeansMatrix:
    """What cross-dataset statistics take: one metric's mean over runs per (dataset, treatment),
    ``None`` where a treatment has no successful run on a dataset."""

    metric: str
    higher_is_better: bool
    datasets: tuple[str, ...]
    treatments: tuple[str, ...]
    means: tuple[tuple[float | None, ...], ...]  # [dataset][treatment]


@dataclass(frozen=True)
class RankSummary:
    """What cross-dataset statistics give back for one metric (Demšar, JMLR 2006): each
    treatment's average rank (1 = best), the Nemenyi critical difference in ranks (None when the
    test was skipped), the groups of treatments it cannot separate, and a verdict in words."""

    average_ranks: dict[str, float]
    critical_difference: float | None = None
    groups: tuple[tuple[str, ...], ...] = ()
    verdict: str = ""
    note: str = ""


#: Cross-dataset statistics as the report uses them: a means matrix in, a rank summary out.
Ranker = Callable[[MeansMatrix], RankSummary]


def class_order(info: DatasetInfo) -> list[int]:
    """Class indices by training count, majority first (ties keep label order)."""
    train = info.class_counts["train"]
    return sorted(range(len(info.class_names)), key=lambda c: -train[info.class_names[c]])


def run_name(run: RunRecord) -> str:
    parts = [f"seed {run.seed}"]
    parts += [f"repeat {run.repeat}"] if run.repeat else []
    parts += [f"fold {run.fold}"] if run.fold else []
    return ", ".join(parts)


def dataset_charts(result: SuiteResult, info: DatasetInfo, rows: list[SummaryRow]) -> DatasetCharts:
    runs = [r for r in result.runs if r.dataset == info.name]
    by_label = {row.label: [r for r in runs if r.label == row.label] for row in rows}
    order = class_order(info)
    ok = {label: [r for r in group if r.ok] for label, group in by_label.items()}
    confusion = [c for c in (_confusion(label, group, info, order) for label, group in ok.items()) if c]
    reliability = [r for r in (_reliability(row, ok[row.label]) for row in rows) if r]
    loss = [Curves(label, [(run_name(r), list(r.train.history.loss)) for r in group
                           if r.train.history is not None])
            for label, group in by_label.items()]
    validation = [Curves(label, [(run_name(r), list(r.train.history.validation)) for r in group
                                 if r.train.history is not None and r.train.history.validation],
                         [r.train.best_epoch for r in group
                          if r.train.history is not None and r.train.history.validation])
                  for label, group in by_label.items()]
    monitor = next((r.train.history.monitor for r in runs if r.train.history is not None
                    and r.train.history.monitor), None)
    tuning = [t for t in (_tuning(label, group) for label, group in by_label.items()) if t]
    charts = DatasetCharts(
        info.name, [row.label for row in rows], _class_bars(info, rows, order), confusion,
        reliability, [c for c in loss if c.runs], [c for c in validation if c.runs], monitor,
        _learned(by_label), tuning, [], samples_view(info, by_label), _unit(info))
    charts.missing = _missing(charts, any(r.ok for r in runs))
    return charts


def _unit(info: DatasetInfo) -> str:
    return "pixels" if info.kind == "segmentation" else "rows"


def _missing(charts: DatasetCharts, any_ok: bool) -> list[str]:
    """What this dataset's runs do not hold (files written before dflbench 0.2, or no run ok)."""
    lacking = []
    if any_ok and not charts.confusion:
        lacking.append("confusion matrices")
    if any_ok and not charts.reliability:
        lacking.append("calibration bins")
    if not charts.loss:
        lacking.append("training history")
    return lacking


def _class_bars(info: DatasetInfo, rows: list[SummaryRow], order: list[int]) -> ClassBars | None:
    if not rows or not any(row.per_class for row in rows):
        return None
    names = [info.class_names[c] for c in order]
    train = info.class_counts["train"]

    def values(row: SummaryRow, what: str, part: str) -> list[float | None]:
        found = {pc.label: getattr(getattr(pc, what), part) for pc in row.per_class}
        return [found.get(name) for name in names]

    tables = {(w, p): [values(row, w, p) for row in rows]
              for w in ("recall", "f1") for p in ("mean", "std")}
    labels = [row.label for row in rows]
    if len(names) <= GROUP_ABOVE:
        return ClassBars(names, [str(train[n]) for n in names], labels, tables["recall", "mean"],
                         tables["f1", "mean"], tables["recall", "std"], tables["f1", "std"],
                         unit=_unit(info))
    # Thirds of the classes ranked by training count: the many/medium/few split of long-tailed
    # recognition (Liu et al., CVPR 2019) without its ImageNet-scale count thresholds.
    third = -(-len(names) // 3)
    parts = [list(range(i, min(i + third, len(names)))) for i in range(0, len(names), third)]
    counts = [f"{train[names[p[-1]]]}–{train[names[p[0]]]}" for p in parts]

    def grouped(table: list[list[float | None]]) -> list[list[float | None]]:
        return [[_mean([t[i] for i in p]) for p in parts] for t in table]

    nones = [[None] * len(parts) for _ in rows]
    return ClassBars([f"{g} ({len(p)} classes)" for g, p in zip(GROUPS, parts)], counts, labels,
                     grouped(tables["recall", "mean"]), grouped(tables["f1", "mean"]), nones, nones,
                     grouped=True, unit=_unit(info))


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _confusion(label: str, runs: list[RunRecord], info: DatasetInfo,
               order: list[int]) -> Confusion | None:
    runs = [r for r in runs if r.confusion is not None]
    if not runs:
        return None
    total = [[sum(r.confusion[i][j] for r in runs) for j in order] for i in order]
    rows = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in total]
    return Confusion(label, [info.class_names[c] for c in order], rows, len(runs))


def _reliability(row: SummaryRow, runs: list[RunRecord]) -> Reliability | None:
    runs = [r for r in runs if r.calibration is not None]
    if not runs:
        return None
    bins = [r.calibration for r in runs]
    count = [sum(b.count[i] for b in bins) for i in range(len(bins[0].count))]

    def pooled(attr: str) -> list[float | None]:
        return [None if not count[i] else
                sum(b.count[i] * getattr(b, attr)[i] for b in bins if b.count[i]) / count[i]
                for i in range(len(count))]

    return Reliability(row.label, count, pooled("confidence"), pooled("accuracy"),
                       row.metrics.get("ece"), len(runs))


def _learned(by_label: dict[str, list[RunRecord]]) -> dict[str, list[Curves]]:
    """Each learned loss parameter's trajectory per run (DFL-learnable's γ, epoch by epoch)."""
    out: dict[str, list[Curves]] = {}
    for label, group in by_label.items():
        names = sorted({name for r in group for name in r.train.learned})
        for name in names:
            runs = [(run_name(r), list(r.train.learned[name].trajectory)) for r in group
                    if name in r.train.learned and r.train.learned[name].trajectory]
            if runs:
                out.setdefault(name, []).append(Curves(label, runs))
    return out


def _tuning(label: str, runs: list[RunRecord]) -> Tuning | None:
    """The grid of a tuned treatment, from each run's ``tuning`` record (a mapping or an object
    with ``grid``: the parameter sets tried, ``scores``: the validation score of each, ``chosen``:
    the set kept, and optionally ``metric``); None when its runs were not tuned."""
    records = [rec for rec in (getattr(r, "tuning", None) for r in runs) if rec is not None]
    if not records:
        return None

    def get(rec: Any, key: str) -> Any:
        return rec.get(key) if isinstance(rec, Mapping) else getattr(rec, key, None)

    def key(point: Any) -> str:
        return json.dumps(point, sort_keys=True, default=str)

    points: dict[str, Any] = {}
    for rec in records:
        for point in get(rec, "grid") or ():
            points.setdefault(key(point), point)
    keys = list(points)
    scores: list[list[float]] = [[] for _ in keys]
    chosen = [0] * len(keys)
    for rec in records:
        for point, score in zip(get(rec, "grid") or (), get(rec, "scores") or ()):
            if score is not None:
                scores[keys.index(key(point))].append(score)
        if get(rec, "chosen") is not None and key(get(rec, "chosen")) in points:
            chosen[keys.index(key(get(rec, "chosen")))] += 1
    return Tuning(label, [_point_label(points[k], list(points.values())) for k in keys], scores,
                  chosen, str(get(records[0], "metric") or ""))


def _point_label(point: Any, grid: list[Any]) -> str:
    """A grid point by the parameters that vary across the grid (``gamma=2``)."""
    if not isinstance(point, Mapping):
        return str(point)
    varying = [k for k in sorted(point) if len({json.dumps(p.get(k), default=str) for p in grid
                                                if isinstance(p, Mapping)}) > 1]
    return ", ".join(f"{k}={point[k]}" for k in varying or sorted(point)) or "default"


def means_matrices(results: Sequence[SuiteResult], metrics: Sequence[str]) -> list[MeansMatrix]:
    """One means matrix per metric over every dataset of ``results`` (treatments in first-seen
    order across the files)."""
    rows = [row for result in results for row in result.summary]
    datasets = tuple(dict.fromkeys(info.name for result in results for info in result.datasets))
    treatments = tuple(dict.fromkeys(row.label for row in rows))
    found = {(row.dataset, row.label): row for row in rows}
    out = []
    for m in metrics:
        def mean(d: str, t: str, m: str = m) -> float | None:
            stat = found[(d, t)].metrics.get(m) if (d, t) in found else None
            return None if stat is None else stat.mean

        out.append(MeansMatrix(m, METRICS[m].higher_is_better, datasets, treatments,
                               tuple(tuple(mean(d, t) for t in treatments) for d in datasets)))
    return out


@dataclass(frozen=True)
class Failure:
    """Runs of one (dataset, treatment) that ended the same way, for the same reason."""

    dataset: str
    treatment: str
    status: str
    runs: list[str]
    reason: str


def failures(result: SuiteResult) -> list[Failure]:
    """The runs that diverged or failed, grouped by (dataset, treatment, status, reason)."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for r in result.runs:
        if not r.ok:
            groups.setdefault((r.dataset, r.label, r.status.value, r.error or "no reason recorded"),
                              []).append(run_name(r))
    return [Failure(d, t, s, runs, reason) for (d, t, s, reason), runs in groups.items()]


def provenance(result: SuiteResult) -> list[tuple[str, str]]:
    """What a result was run with, as (label, text) pairs for the report's header."""
    config = result.suite.get("config") or {}
    env, proto = result.environment, result.protocol
    train = config.get("train") or {}
    model = config.get("model") or {}
    split = ", ".join(f"{k} {proto[k]}" for k in ("test_size", "split_seed", "repeats") if k in proto)
    es = train.get("early_stopping")
    training = ", ".join(f"{k} {train[k]}" for k in ("epochs", "batch_size", "lr", "optimizer")
                         if k in train)
    if es:
        training += (f"; early stopping on validation {es.get('monitor')} (patience "
                     f"{es.get('patience')}, {es.get('validation')} of the training split)")
    params = ", ".join(f"{k}={v}" for k, v in sorted(model.items()) if k != "name")
    pairs = [
        ("suite", result.name + (f" (sha256 {str(result.suite['sha256'])[:12]})"
                                 if result.suite.get("sha256") else "")),
        ("description", str(config.get("description") or "")),
        ("protocol", f"{proto.get('kind', 'holdout')}" + (f": {split}" if split else "")),
        ("seeds", ", ".join(map(str, config.get("seeds") or [])) or "—"),
        ("model", f"{model.get('name', '?')}" + (f" ({params})" if params else "") if model else "—"),
        ("training", training or "—"),
        ("environment", ", ".join(f"{k} {env[k]}" for k in ("python", "torch", "numpy", "sklearn",
                                                              "imblearn") if k in env)),
        ("machine", f"{env.get('platform', '?')}; device {env.get('device', '?')}, "
                    f"{env.get('threads', '?')} thread(s) per dataset"),
        ("written by", f"dflbench {result.dflbench_version} (result schema "
                       f"{result.schema_version}) on {result.created}"),
    ]
    if not result.complete:
        pairs.append(("state", "INCOMPLETE: the run was interrupted; only finished datasets are here"))
    if result.cache.get("reused"):
        pairs.append(("cache", "reused from the task cache: " + ", ".join(result.cache["reused"])))
    return [(k, v) for k, v in pairs if v]
