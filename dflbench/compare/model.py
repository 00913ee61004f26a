"""Compare result files: align runs, compute deltas against a baseline, decide regressions.

This module holds the comparison as data; :mod:`dflbench.compare.compute` builds it. Pure data, no
printing (docs/design.md, "compute first, render last"): the CLI (``dflbench.cli.compare``) loads
the files, calls :func:`~dflbench.compare.compute.compare_results` and hands the
:class:`Comparison` to a renderer; it alone turns the verdict into an exit code.

Alignment: runs are matched by (dataset, treatment) — the treatment is the label reports show,
the loss name unless the suite gives a label — and, for per-class figures, by class label.
Whatever does not align is listed in :attr:`Comparison.unaligned` instead of being compared.

Means and standard deviations come from the per-run ``runs`` whose status is ``ok``, so the
significance test sees the raw values: a paired t-test (``scipy.stats.ttest_rel``) when both files
hold the same seeds (at least two), else Welch's t-test (``ttest_ind(equal_var=False)``) when both
hold at least two, else no p-value (with the reason). Tests are two-sided.

A regression is decided by the allowance alone: a candidate mean worse than the baseline mean by
more than ``--max-drop``. The p-value only informs (``beyond_noise``): with two to five seeds a
t-test has little power, so gating on it would let real drops through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dflbench.errors import ConfigError, unknown
from dflbench.metrics import METRICS
from dflbench.results.model import SuiteResult

DEFAULT_METRICS = ("macro_f1",)
DEFAULT_ALPHA = 0.05
#: How many (dataset, treatment, metric) rows per candidate file count as "biggest movers".
N_MOVERS = 5
#: Differences smaller than this are float noise (means of identical values can differ by 1e-17).
TOL = 1e-9

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# ---------------------------------------------------------------------------------------------
# Allowance (--max-drop)


@dataclass(frozen=True)
class Allowance:
    """How far a metric may fall before it counts as a regression.

    ``relative`` allowances are a fraction of the baseline mean's magnitude (``2%`` → 0.02 ×
    |baseline|); absolute ones are in the metric's own units. "Fall" means "get worse": for a
    lower-is-better metric such as ECE it is an increase.
    """

    value: float
    relative: bool = False

    def amount(self, baseline_mean: float) -> float:
        """The allowed drop, in metric units, for this baseline mean."""
        return self.value * abs(baseline_mean) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


def parse_allowance(text: str) -> Allowance:
    """Parse ``--max-drop``: an absolute number (``0.02``) or a percentage (``2%``)."""
    raw = str(text).strip()
    relative = raw.endswith("%")
    number = raw[:-1].strip() if relative else raw
    if not _NUMBER.match(number):
        raise ConfigError(f"--max-drop: '{text}' is not a number or a percentage such as 2%")
    value = float(number)
    if not math.isfinite(value):  # pragma: no cover - the pattern admits finite numbers only
        raise ConfigError(f"--max-drop: '{text}' is not a finite number")
    if value < 0:
        raise ConfigError(f"--max-drop: '{text}' is negative; give the largest acceptable drop, "
                          "such as 0.02 or 2%")
    return Allowance(value / 100 if relative else value, relative)


def check_metrics(names: Sequence[str]) -> list[str]:
    """The metric names, validated against :data:`dflbench.metrics.METRICS`, duplicates dropped."""
    out: list[str] = []
    for name in names:
        if name not in METRICS:
            raise ConfigError(f"--metric: {unknown('metric', name, METRICS)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ConfigError("--metric: give at least one metric")
    return out


def check_alpha(alpha: float) -> float:
    if not (0.0 < alpha < 1.0):
        raise ConfigError(f"--alpha: {alpha} is not between 0 and 1")
    return alpha


# ---------------------------------------------------------------------------------------------
# The comparison, as data


@dataclass(frozen=True)
class Stat:
    """A metric over one file's successful seeds."""

    mean: float | None
    std: float | None
    n: int
    seeds: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "n": self.n, "seeds": list(self.seeds)}


@dataclass
class MetricDelta:
    """One metric of one aligned (dataset, treatment) pair: baseline against one candidate."""

    metric: str
    baseline: Stat
    candidate: Stat
    #: candidate mean − baseline mean (None when either side has no successful run).
    delta: float | None
    #: ``delta`` signed so that positive is better (−delta for lower-is-better metrics).
    gain: float | None
    #: "better", "worse", "same", or "n/a" (a side has no value).
    direction: str
    #: The allowed drop in metric units; None when there is no gate.
    allowance: float | None = None
    #: True/False under a gate; None without one (report only).
    regression: bool | None = None
    reason: str = ""
    test: str | None = None
    p_value: float | None = None
    p_note: str = ""
    #: p < alpha; None when there is no p-value.
    beyond_noise: bool | None = None
    #: Among the file's biggest |gain| rows (see :data:`N_MOVERS`).
    mover: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "higher_is_better": METRICS[self.metric].higher_is_better,
            "baseline": self.baseline.to_dict(), "candidate": self.candidate.to_dict(),
            "delta": self.delta, "gain": self.gain, "direction": self.direction,
            "allowance": self.allowance, "regression": self.regression, "reason": self.reason,
            "test": self.test, "p_value": self.p_value, "p_note": self.p_note,
            "beyond_noise": self.beyond_noise, "mover": self.mover,
        }


@dataclass
class ClassDelta:
    """Per-class recall and F1 of one aligned pair and class label (means over ok seeds)."""

    label: str
    recall: tuple[Stat, Stat]
    f1: tuple[Stat, Stat]

    @property
    def recall_delta(self) -> float | None:
        return diff(self.recall)

    @property
    def f1_delta(self) -> float | None:
        return diff(self.f1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "recall": {"baseline": self.recall[0].to_dict(), "candidate": self.recall[1].to_dict(),
                       "delta": self.recall_delta},
            "f1": {"baseline": self.f1[0].to_dict(), "candidate": self.f1[1].to_dict(),
                   "delta": self.f1_delta},
        }


@dataclass
class PairComparison:
    """One (dataset, treatment) pair present in the baseline and in one candidate."""

    file: str
    dataset: str
    treatment: str
    metrics: list[MetricDelta]
    per_class: list[ClassDelta] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "dataset": self.dataset, "treatment": self.treatment,
                "metrics": [m.to_dict() for m in self.metrics],
                "per_class": [c.to_dict() for c in self.per_class]}


@dataclass(frozen=True)
class Unaligned:
    """Something present on one side only (or incompatible), so it was not compared."""

    file: str
    kind: str  # dataset_only_in_baseline|dataset_only_in_candidate|pair_only_in_*|classes_differ|metric_missing
    dataset: str
    treatment: str | None = None
    detail: str = ""

    def describe(self, baseline: str) -> str:
        what = self.dataset if self.treatment is None else f"{self.dataset} / {self.treatment}"
        if self.kind.endswith("only_in_baseline"):
            return f"{what}: only in the baseline {baseline}, not in {self.file}"
        if self.kind.endswith("only_in_candidate"):
            return f"{what}: only in {self.file}, not in the baseline {baseline}"
        return f"{what}: {self.detail} ({self.file})"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "dataset": self.dataset,
                "treatment": self.treatment, "detail": self.detail}


@dataclass(frozen=True)
class AcrossDatasets:
    """One candidate file on one gated metric across datasets: each aligned dataset's mean over
    its aligned treatments, baseline against candidate; how many datasets got better, worse or
    stayed the same (within float noise), and the two-sided Wilcoxon signed-rank p over them."""

    file: str
    metric: str
    n_datasets: int
    better: int
    worse: int
    same: int
    p_value: float | None
    p_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "metric": self.metric, "n_datasets": self.n_datasets,
                "better": self.better, "worse": self.worse, "same": self.same,
                "p_value": self.p_value, "p_note": self.p_note}


@dataclass(frozen=True)
class FileInfo:
    path: str
    suite: str
    sha256: str | None
    created: str
    dflbench_version: str
    complete: bool
    n_seeds: int

    @classmethod
    def of(cls, path: str, result: SuiteResult) -> FileInfo:
        seeds = {r.seed for r in result.runs}
        return cls(path, result.name, result.suite.get("sha256"), result.created,
                   result.dflbench_version, result.complete, len(seeds))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "suite": self.suite, "sha256": self.sha256,
                "created": self.created, "dflbench_version": self.dflbench_version,
                "complete": self.complete, "n_seeds": self.n_seeds}


@dataclass
class Comparison:
    """Everything ``dflbench compare`` reports; renderers only format it."""

    baseline: FileInfo
    candidates: list[FileInfo]
    metrics: list[str]  # shown, in order
    gated: list[str]  # the --metric list the gate applies to
    max_drop: Allowance | None
    alpha: float
    per_class: bool
    datasets: list[str]  # aligned datasets, baseline order
    pairs: list[PairComparison]
    unaligned: list[Unaligned]
    notes: list[str]
    #: Per candidate file and gated metric, the change across datasets (informs; never gates).
    across: list[AcrossDatasets] = field(default_factory=list)

    @property
    def gate(self) -> bool:
        return self.max_drop is not None

    @property
    def regressions(self) -> list[tuple[PairComparison, MetricDelta]]:
        return [(p, m) for p in self.pairs for m in p.metrics if m.regression]

    @property
    def verdict(self) -> str:
        """``regression``, ``ok`` (gate passed) or ``report-only`` (no --max-drop)."""
        if not self.gate:
            return "report-only"
        return "regression" if self.regressions else "ok"

    def movers(self, file: str) -> list[tuple[PairComparison, MetricDelta]]:
        rows = [(p, m) for p in self.pairs if p.file == file for m in p.metrics if m.mover]
        return sorted(rows, key=lambda pm: -abs(pm[1].gain or 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "dflbench-compare",
            "format_version": 1,
            "verdict": self.verdict,
            "baseline": self.baseline.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
            "metrics": self.metrics,
            "gated_metrics": self.gated,
            "max_drop": None if self.max_drop is None else {
                "text": str(self.max_drop), "value": self.max_drop.value,
                "relative": self.max_drop.relative},
            "alpha": self.alpha,
            "regressions": [
                {"file": p.file, "dataset": p.dataset, "treatment": p.treatment,
                 "metric": m.metric, "baseline_mean": m.baseline.mean,
                 "candidate_mean": m.candidate.mean, "delta": m.delta, "allowance": m.allowance,
                 "p_value": m.p_value, "test": m.test, "beyond_noise": m.beyond_noise,
                 "reason": m.reason}
                for p, m in self.regressions
            ],
            "pairs": [p.to_dict() for p in self.pairs],
            "unaligned": [u.to_dict() for u in self.unaligned],
            "notes": self.notes,
            "across_datasets": [a.to_dict() for a in self.across],
        }


def diff(pair: tuple[Stat, Stat]) -> float | None:
    """Candidate mean − baseline mean, None when either is missing."""
    b, c = pair
    return None if b.mean is None or c.mean is None else c.mean - b.mean
