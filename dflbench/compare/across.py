"""Each candidate file's change across datasets, per gated metric: the per-pair gate says whether
any (dataset, loss) dropped too far; this says whether the candidate is worse on most datasets,
with the Wilcoxon signed-rank test over datasets (Demšar, JMLR 2006, §3.1.3). It informs and
never gates."""

from __future__ import annotations

import math

from dflbench.compare.model import TOL, AcrossDatasets, Comparison
from dflbench.metrics import METRICS
from dflbench.ranking.frequentist import wilcoxon


def across_datasets(comparison: Comparison) -> list[AcrossDatasets]:
    """One :class:`AcrossDatasets` per (candidate file, gated metric)."""
    return [_one(comparison, cand.path, metric)
            for cand in comparison.candidates for metric in comparison.gated]


def _one(comparison: Comparison, file: str, metric: str) -> AcrossDatasets:
    """Each dataset is one observation: the mean, over the dataset's aligned treatments with a
    value on both sides, of the baseline's and of the candidate's means."""
    base: dict[str, list[float]] = {}
    cand: dict[str, list[float]] = {}
    for pair in comparison.pairs:
        m = next((x for x in pair.metrics if x.metric == metric), None) if pair.file == file else None
        if m is None or m.baseline.mean is None or m.candidate.mean is None:
            continue
        base.setdefault(pair.dataset, []).append(m.baseline.mean)
        cand.setdefault(pair.dataset, []).append(m.candidate.mean)
    datasets = list(base)
    b = [math.fsum(base[d]) / len(base[d]) for d in datasets]
    c = [math.fsum(cand[d]) / len(cand[d]) for d in datasets]
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    gains = [sign * (y - x) for x, y in zip(b, c)]
    better, worse = sum(g > TOL for g in gains), sum(g < -TOL for g in gains)
    p, note = wilcoxon(c, b)
    return AcrossDatasets(file, metric, len(datasets), better, worse,
                          len(datasets) - better - worse, p, note)
