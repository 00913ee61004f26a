"""Build a :class:`~dflbench.compare.model.Comparison`: align the runs of each candidate file with
the baseline's by (dataset, treatment) and class label, and compute every delta."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from dflbench.compare.across import across_datasets
from dflbench.compare.deltas import RunKey, metric_delta, stat
from dflbench.compare.model import (
    DEFAULT_ALPHA,
    DEFAULT_METRICS,
    N_MOVERS,
    TOL,
    Allowance,
    ClassDelta,
    Comparison,
    FileInfo,
    MetricDelta,
    PairComparison,
    Unaligned,
    check_alpha,
    check_metrics,
)
from dflbench.errors import ConfigError, ResultFileError
from dflbench.metrics import METRICS
from dflbench.results.model import RunRecord, SuiteResult

Groups = dict[tuple[str, str], list[RunRecord]]


def compare_results(
    baseline: SuiteResult,
    candidates: list[tuple[str, SuiteResult]],
    metrics: Sequence[str] = DEFAULT_METRICS,
    max_drop: Allowance | None = None,
    per_class: bool = False,
    *,
    baseline_name: str = "baseline",
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """Compare every candidate against ``baseline``.

    ``metrics`` are gated (when ``max_drop`` is given) and shown first; the baseline suite's other
    metrics are shown too. Without ``max_drop`` nothing is a regression (report only).
    """
    gated = check_metrics(metrics)
    check_alpha(alpha)
    if not candidates:
        raise ConfigError("compare needs at least one file besides the baseline")
    suite_metrics = baseline.metric_names or list(METRICS)
    shown = gated + [m for m in suite_metrics if m in METRICS and m not in gated]
    comparison = Comparison(
        baseline=FileInfo.of(baseline_name, baseline),
        candidates=[FileInfo.of(n, r) for n, r in candidates], metrics=shown, gated=gated,
        max_drop=max_drop, alpha=alpha, per_class=per_class, datasets=[], pairs=[],
        unaligned=[], notes=[])
    if not baseline.complete:
        comparison.notes.append(f"the baseline {baseline_name} is incomplete (its run was interrupted)")
    for name, cand in candidates:
        _compare_file(comparison, baseline, baseline_name, name, cand)
    aligned = {p.dataset for p in comparison.pairs}
    comparison.datasets = [d for d in baseline.dataset_names if d in aligned]
    if max_drop is not None:
        require_gate_input(comparison, baseline, candidates)
    comparison.across = across_datasets(comparison)
    return comparison


def require_gate_input(comparison: Comparison, baseline: SuiteResult,
                       candidates: list[tuple[str, SuiteResult]]) -> None:
    """``--max-drop`` must not pass on nothing: every candidate file needs an aligned
    (dataset, treatment) pair, and every aligned pair a finite baseline value of each gated
    metric; ConfigError (exit 2) saying what did not align otherwise."""
    base = comparison.baseline.path
    for name, cand in candidates:
        if not any(p.file == name for p in comparison.pairs):
            raise ConfigError(
                f"--max-drop: nothing to gate: no (dataset, treatment) pair of {name} is in the "
                f"baseline (baseline: {_pairs_text(baseline)}; this file: {_pairs_text(cand)})")
    for pair in comparison.pairs:
        for m in pair.metrics:
            if m.metric in comparison.gated and m.baseline.mean is None:
                raise ConfigError(
                    f"--max-drop: the baseline {base} has no finite {m.metric} for "
                    f"{pair.dataset} / {pair.treatment} (its runs failed, diverged or lack the "
                    "metric), so a drop cannot be measured; gate on another metric or rerun it")
    missing = [u for u in comparison.unaligned if u.kind == "metric_missing"
               and u.detail.startswith(tuple(f"metric {m} " for m in comparison.gated))
               and u.detail.endswith("the baseline")]
    if missing:
        u = missing[0]
        raise ConfigError(f"--max-drop: {u.dataset} / {u.treatment}: {u.detail} {base}, so a drop "
                          "cannot be measured")


def _pairs_text(result: SuiteResult, shown: int = 2) -> str:
    """The first (dataset/treatment) pairs of a file, for saying what did not align."""
    pairs = [f"{d}/{t}" for d, t in _groups(result)]
    if not pairs:
        return "no runs"
    more = f" and {len(pairs) - shown} more" if len(pairs) > shown else ""
    return ", ".join(pairs[:shown]) + more


def _compare_file(comparison: Comparison, baseline: SuiteResult, baseline_name: str,
                  name: str, cand: SuiteResult) -> None:
    """Add one candidate file's pairs, unaligned items and notes to ``comparison``."""
    base_groups, cand_groups = _groups(baseline), _groups(cand)
    comparison.notes.extend(_file_notes(baseline_name, baseline, name, cand))
    comparison.unaligned.extend(_unaligned_keys(name, base_groups, cand_groups))
    base_classes, cand_classes = _classes(baseline), _classes(cand)
    comparison.unaligned.extend(_class_mismatches(name, base_groups, cand_groups, base_classes,
                                                  cand_classes))
    pairs = []
    for key, b_runs in base_groups.items():
        if key not in cand_groups:
            continue
        dataset, treatment = key
        c_runs = cand_groups[key]
        comparison.notes.extend(_pair_notes(name, dataset, treatment, b_runs, c_runs))
        pair = PairComparison(name, dataset, treatment,
                              _metric_deltas(comparison, name, key, b_runs, c_runs))
        if comparison.per_class:
            labels = [c for c in base_classes.get(dataset, []) if c in cand_classes.get(dataset, [])]
            pair.per_class = [_class_delta(label, b_runs, c_runs) for label in labels]
        pairs.append(pair)
    _mark_movers(pairs, comparison.gated)
    comparison.pairs.extend(pairs)


def _metric_deltas(comparison: Comparison, name: str, key: tuple[str, str],
                   b_runs: list[RunRecord], c_runs: list[RunRecord]) -> list[MetricDelta]:
    deltas = []
    n_cand_ok = len(_ok(c_runs))
    for metric in comparison.metrics:
        b_vals, c_vals = _values(b_runs, metric), _values(c_runs, metric)
        if _ok(b_runs) and n_cand_ok and (b_vals is None or c_vals is None):
            side = "baseline" if b_vals is None else "candidate"
            comparison.unaligned.append(Unaligned(name, "metric_missing", key[0], key[1],
                                                  f"metric {metric} is not in the {side}"))
            continue
        deltas.append(metric_delta(metric, b_vals or {}, c_vals or {},
                                   metric in comparison.gated, comparison.max_drop,
                                   comparison.alpha, len(c_runs), n_cand_ok))
    return deltas


def require_aligned(comparison: Comparison) -> None:
    """``--strict``: raise when anything did not align (after the report has been rendered)."""
    if not comparison.unaligned:
        return
    items = [u.describe(comparison.baseline.path) for u in comparison.unaligned]
    shown = "; ".join(items[:3]) + (f"; and {len(items) - 3} more" if len(items) > 3 else "")
    raise ResultFileError(f"--strict: {len(items)} item(s) did not align: {shown}")


def _groups(result: SuiteResult) -> Groups:
    """Runs by (dataset, treatment), in file order."""
    groups: Groups = {}
    for run in result.runs:
        groups.setdefault((run.dataset, run.label), []).append(run)
    return groups


def _classes(result: SuiteResult) -> dict[str, list[str]]:
    """Class labels per dataset: the dataset record's, else those the runs report."""
    out = {info.name: [str(c) for c in info.class_names] for info in result.datasets}
    for run in result.runs:
        if run.dataset not in out and run.per_class:
            out[run.dataset] = [str(c.label) for c in run.per_class]
    return out


def _class_mismatches(name: str, base: Groups, cand: Groups, base_classes: dict[str, list[str]],
                      cand_classes: dict[str, list[str]]) -> list[Unaligned]:
    """Datasets on both sides whose class labels differ (the same labels reordered still align)."""
    order = list(dict.fromkeys(d for d, _ in base))
    out = []
    for dataset in sorted({d for d, _ in base} & {d for d, _ in cand}, key=order.index):
        b_cls, c_cls = base_classes.get(dataset, []), cand_classes.get(dataset, [])
        if set(b_cls) == set(c_cls):
            continue
        only_b = [c for c in b_cls if c not in c_cls]
        only_c = [c for c in c_cls if c not in b_cls]
        detail = "classes differ: " + "; ".join(filter(None, [
            f"only in baseline: {', '.join(only_b)}" if only_b else "",
            f"only in candidate: {', '.join(only_c)}" if only_c else ""]))
        out.append(Unaligned(name, "classes_differ", dataset, None, detail))
    return out


def _unaligned_keys(name: str, base: Groups, cand: Groups) -> list[Unaligned]:
    out = []
    b_ds, c_ds = {d for d, _ in base}, {d for d, _ in cand}
    out += [Unaligned(name, "pair_only_in_baseline", d, t) for d, t in base
            if d in c_ds and (d, t) not in cand]
    out += [Unaligned(name, "pair_only_in_candidate", d, t) for d, t in cand
            if d in b_ds and (d, t) not in base]
    out += [Unaligned(name, "dataset_only_in_baseline", d)
            for d in dict.fromkeys(d for d, _ in base) if d not in c_ds]
    out += [Unaligned(name, "dataset_only_in_candidate", d)
            for d in dict.fromkeys(d for d, _ in cand) if d not in b_ds]
    return out


def _file_notes(base_name: str, base: SuiteResult, name: str, cand: SuiteResult) -> list[str]:
    notes = []
    if base.name != cand.name:
        notes.append(f"{name}: suite '{cand.name}' differs from the baseline's "
                     f"'{base.name}'; only what aligns is compared")
    elif base.suite.get("sha256") != cand.suite.get("sha256"):
        notes.append(f"{name}: suite '{cand.name}' was run with a different configuration than "
                     f"the baseline: {_config_changes(base.suite, cand.suite)}")
    if not cand.complete:
        notes.append(f"{name}: incomplete (its run was interrupted)")
    return notes


def _pair_notes(name: str, dataset: str, treatment: str, b_runs: list[RunRecord],
                c_runs: list[RunRecord]) -> list[str]:
    notes = []
    b, c = b_runs[0].treatment, c_runs[0].treatment
    if b.setup() != c.setup():
        notes.append(f"{name}: {dataset} / {treatment}: the loss differs from the baseline's "
                     f"({b.describe()} vs {c.describe()})")
    for side, runs in (("baseline", b_runs), (name, c_runs)):
        bad = [r for r in runs if not r.ok]
        if bad:
            kinds = "/".join(sorted({r.status.value for r in bad}))
            notes.append(f"{side}: {dataset} / {treatment}: {len(bad)} of {len(runs)} runs {kinds}"
                         " (left out of the means)")
    return notes


def _ok(runs: list[RunRecord]) -> list[RunRecord]:
    return [r for r in runs if r.ok]


def _key(run: RunRecord) -> RunKey:
    return run.repeat, run.fold, run.seed


def _values(runs: list[RunRecord], metric: str) -> dict[RunKey, float] | None:
    """Per-run values of ``metric`` over the ok runs; None when the ok runs lack the metric."""
    ok = _ok(runs)
    values: dict[RunKey, float] = {}
    for run in ok:
        value = run.metrics.get(metric)
        if isinstance(value, (int, float)) and math.isfinite(value):
            values[_key(run)] = float(value)
    if ok and not values and not any(metric in r.metrics for r in ok):
        return None
    return values


def _class_delta(label: str, b_runs: list[RunRecord], c_runs: list[RunRecord]) -> ClassDelta:
    def class_stat(runs: list[RunRecord], key: str) -> object:
        return stat({_key(run): float(getattr(row, key)) for run in _ok(runs)
                     for row in run.per_class if str(row.label) == label})

    return ClassDelta(label, (class_stat(b_runs, "recall"), class_stat(c_runs, "recall")),
                      (class_stat(b_runs, "f1"), class_stat(c_runs, "f1")))


def _mark_movers(pairs: list[PairComparison], gated: list[str]) -> None:
    """Flag the file's :data:`N_MOVERS` largest |gain| rows among the gated metrics."""
    rows = [m for p in pairs for m in p.metrics
            if m.metric in gated and m.gain is not None and abs(m.gain) > TOL]
    for m in sorted(rows, key=lambda m: -abs(m.gain))[:N_MOVERS]:  # type: ignore[arg-type]
        m.mover = True


#: Changes of configuration named in a note; the rest are counted.
N_CHANGES = 4


def _config_changes(base: dict[str, Any], cand: dict[str, Any]) -> str:
    """What differs between two files' resolved suite configurations (``suite.config``), such
    as ``train.epochs 30 → 10``; a file without one says only that the hashes differ."""
    a, b = base.get("config"), cand.get("config")
    if not isinstance(a, dict) or not isinstance(b, dict):
        return "suite sha256 differs"
    changes = list(_diff(a, b, ""))
    if not changes:
        return "suite sha256 differs"
    more = f"; and {len(changes) - N_CHANGES} more" if len(changes) > N_CHANGES else ""
    return "; ".join(changes[:N_CHANGES]) + more


def _diff(a: Any, b: Any, where: str) -> Iterator[str]:
    """``where value → value`` for each leaf that differs; lists of datasets and losses are
    matched by name and label, not position (``losses[focal].gamma 2.0 → 3.0``)."""
    keyed_a, keyed_b = _keyed(a), _keyed(b)
    if keyed_a is not None and keyed_b is not None:
        a, b = keyed_a, keyed_b
    if not (isinstance(a, dict) and isinstance(b, dict)):
        if a != b:
            yield f"{where} {_brief(a)} → {_brief(b)}"
        return
    for key in list(a) + [k for k in b if k not in a]:
        path = f"{where}{key}" if str(key).startswith("[") else \
            f"{where}.{key}" if where else str(key)
        if key not in b:
            yield f"{path} {_brief(a[key])} → (absent)"
        elif key not in a:
            yield f"{path} (absent) → {_brief(b[key])}"
        else:
            yield from _diff(a[key], b[key], path)


def _keyed(items: Any) -> dict[str, Any] | None:
    """A list of mappings that each have a distinct ``label`` or ``name``, keyed by it
    (``losses[focal]``); None for any other value."""
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    for field_name in ("label", "name"):
        keys = [i.get(field_name) for i in items]
        if all(isinstance(k, str) for k in keys) and len(set(keys)) == len(keys):
            return {f"[{k}]": i for k, i in zip(keys, items)}
    return None


def _brief(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else text[:39] + "…"
