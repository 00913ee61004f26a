"""Aggregation over runs: mean, sample standard deviation and a Student-t 95% interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from dflbench.results.model import ClassSummary, RunRecord, Stat, SummaryRow, Treatment


def describe(values: Sequence[float]) -> Stat:
    """Mean, std and 95% interval of per-run values; spread is None (with a note) below two."""
    n = len(values)
    if n == 0:
        return Stat(None, None, None, "no successful runs")
    mean = math.fsum(values) / n
    if n < 2:
        return Stat(mean, None, None, "one run: no spread")
    from scipy.stats import t

    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return Stat(mean, std, (mean - half, mean + half))


def _brief(values: Sequence[float]) -> Stat:
    d = describe(values)
    return Stat(d.mean, d.std)


def summarize_group(dataset: str, group: Sequence[RunRecord]) -> SummaryRow:
    """One (dataset, treatment)'s runs summarised over those that finished ``ok``."""
    ok = [r for r in group if r.ok]
    metrics, per_class, learned = {}, [], {}
    if ok:
        metrics = {name: describe([r.metrics[name] for r in ok]) for name in ok[0].metrics}
        per_class = [ClassSummary(cls.label, _brief([r.per_class[c].recall for r in ok]),
                                  _brief([r.per_class[c].f1 for r in ok]),
                                  None if cls.iou is None else
                                  _brief([r.per_class[c].iou for r in ok]))
                     for c, cls in enumerate(ok[0].per_class)]
        learned = {name: _brief([r.train.learned[name].value for r in ok])
                   for name in ok[0].train.learned}
    return SummaryRow(dataset, _common_treatment(group), len(ok), len(group), metrics,
                      tuple(per_class), learned)


def _common_treatment(group: Sequence[RunRecord]) -> Treatment:
    """The treatment the runs share: a tuned one's chosen parameters vary from fold to fold, so
    only the parameters every run has alike describe it."""
    first = group[0].treatment
    if all(r.tuning is None for r in group):
        return first

    def common(key: str) -> dict:
        values = [getattr(r.treatment, key) for r in group]
        return {k: v for k, v in values[0].items() if all(p.get(k) == v for p in values)}

    return replace(first, loss_params=common("loss_params"), sampler_params=common("sampler_params"))


def summarize(runs: Sequence[RunRecord], treatments: Sequence[str],
              datasets: Sequence[str]) -> list[SummaryRow]:
    """One summary row per (dataset, treatment) over its successful runs, in suite order."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.label), []).append(run)
    return [summarize_group(d, groups[(d, t)]) for d in datasets for t in treatments
            if (d, t) in groups]
