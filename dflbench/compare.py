"""Compare result files: align runs, compute deltas against a baseline, decide regressions.

Pure data, no printing (docs/design.md, "compute first, render last"). The CLI
(``dflbench.cli.compare``) loads the files, calls :func:`compare_results` and hands the
:class:`Comparison` to a renderer; it alone turns the verdict into an exit code.

Alignment: runs are matched by (dataset, treatment) — the treatment is the label reports show,
the loss name unless the suite gives a label — and, for per-class figures, by class label.
Whatever does not align is listed in :attr:`Comparison.unaligned` instead of being compared.

Means and standard deviations come from the per-seed ``runs`` whose status is ``ok``, so the
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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dflbench.errors import ConfigError, ResultFileError, unknown
from dflbench.metrics import METRICS
from dflbench.results import SuiteResult
from dflbench.stats import describe

DEFAULT_METRICS = ("macro_f1",)
DEFAULT_ALPHA = 0.05
#: How many (dataset, treatment, metric) rows per candidate file count as "biggest movers".
N_MOVERS = 5
#: Differences smaller than this are float noise (means of identical values can differ by 1e-17).
_TOL = 1e-9

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
        return _diff(self.recall)

    @property
    def f1_delta(self) -> float | None:
        return _diff(self.f1)

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
        seeds = {r["seed"] for r in result.runs}
        return cls(path, result.suite.get("name", "?"), result.suite.get("sha256"), result.created,
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
        }


# ---------------------------------------------------------------------------------------------
# Computing it


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
    suite_metrics = baseline.suite.get("config", {}).get("metrics") or list(METRICS)
    shown = gated + [m for m in suite_metrics if m in METRICS and m not in gated]

    base_groups = _groups(baseline)
    base_info = FileInfo.of(baseline_name, baseline)
    pairs: list[PairComparison] = []
    unaligned: list[Unaligned] = []
    notes: list[str] = []
    aligned_datasets: set[str] = set()
    if not baseline.complete:
        notes.append(f"the baseline {baseline_name} is incomplete (its run was interrupted)")

    for name, cand in candidates:
        cand_groups = _groups(cand)
        notes += _file_notes(baseline_name, baseline, name, cand)
        unaligned += _unaligned_keys(name, base_groups, cand_groups)
        base_classes, cand_classes = _classes(baseline), _classes(cand)
        for dataset in sorted({d for d, _ in base_groups} & {d for d, _ in cand_groups},
                              key=_order(base_groups)):
            b_cls, c_cls = base_classes.get(dataset, []), cand_classes.get(dataset, [])
            if set(b_cls) != set(c_cls):  # the same labels in another order still align
                only_b = [c for c in b_cls if c not in c_cls]
                only_c = [c for c in c_cls if c not in b_cls]
                detail = "classes differ: " + "; ".join(filter(None, [
                    f"only in baseline: {', '.join(only_b)}" if only_b else "",
                    f"only in candidate: {', '.join(only_c)}" if only_c else ""]))
                unaligned.append(Unaligned(name, "classes_differ", dataset, None, detail))
        file_pairs: list[PairComparison] = []
        for key in base_groups:
            if key not in cand_groups:
                continue
            dataset, treatment = key
            b_runs, c_runs = base_groups[key], cand_groups[key]
            notes += _pair_notes(name, dataset, treatment, b_runs, c_runs)
            deltas = []
            b_ok, c_ok = _ok(b_runs), _ok(c_runs)
            for metric in shown:
                b_vals, c_vals = _values(b_runs, metric), _values(c_runs, metric)
                if b_ok and c_ok and (b_vals is None or c_vals is None):
                    side = "baseline" if b_vals is None else "candidate"
                    unaligned.append(Unaligned(name, "metric_missing", dataset, treatment,
                                               f"metric {metric} is not in the {side}"))
                    continue
                deltas.append(_metric_delta(metric, b_vals or {}, c_vals or {},
                                            metric in gated, max_drop, alpha, len(c_runs),
                                            len(c_ok)))
            pair = PairComparison(name, dataset, treatment, deltas)
            if per_class:
                labels = [c for c in base_classes.get(dataset, []) if c in cand_classes.get(dataset, [])]
                pair.per_class = [_class_delta(label, b_runs, c_runs) for label in labels]
            file_pairs.append(pair)
            aligned_datasets.add(dataset)
        _mark_movers(file_pairs, gated)
        pairs += file_pairs

    datasets = [d for d in _dataset_order(baseline) if d in aligned_datasets]
    return Comparison(
        baseline=base_info, candidates=[FileInfo.of(n, r) for n, r in candidates],
        metrics=shown, gated=gated, max_drop=max_drop, alpha=alpha, per_class=per_class,
        datasets=datasets, pairs=pairs, unaligned=unaligned, notes=notes,
    )


def require_aligned(comparison: Comparison) -> None:
    """``--strict``: raise when anything did not align (after the report has been rendered)."""
    if not comparison.unaligned:
        return
    items = [u.describe(comparison.baseline.path) for u in comparison.unaligned]
    shown = "; ".join(items[:3]) + (f"; and {len(items) - 3} more" if len(items) > 3 else "")
    raise ResultFileError(f"--strict: {len(items)} item(s) did not align: {shown}")


def _groups(result: SuiteResult) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Runs by (dataset, treatment), in file order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in result.runs:
        groups.setdefault((run["dataset"], run["treatment"]), []).append(run)
    return groups


def _order(groups: dict[tuple[str, str], Any]) -> Callable[[str], int]:
    order = list(dict.fromkeys(d for d, _ in groups))
    return order.index


def _dataset_order(result: SuiteResult) -> list[str]:
    return list(dict.fromkeys([d.get("name") for d in result.datasets if isinstance(d, dict)]
                              + [r["dataset"] for r in result.runs]))


def _classes(result: SuiteResult) -> dict[str, list[str]]:
    """Class labels per dataset: the dataset record's, else those the runs report."""
    out: dict[str, list[str]] = {}
    for info in result.datasets:
        if isinstance(info, dict) and isinstance(info.get("class_names"), list):
            out[info["name"]] = [str(c) for c in info["class_names"]]
    for run in result.runs:
        if run["dataset"] not in out and run["per_class"]:
            out[run["dataset"]] = [str(c["label"]) for c in run["per_class"]]
    return out


def _unaligned_keys(name: str, base: dict[tuple[str, str], Any],
                    cand: dict[tuple[str, str], Any]) -> list[Unaligned]:
    out = []
    b_ds, c_ds = {d for d, _ in base}, {d for d, _ in cand}
    for (dataset, treatment) in base:
        if dataset not in c_ds:
            continue
        if (dataset, treatment) not in cand:
            out.append(Unaligned(name, "pair_only_in_baseline", dataset, treatment))
    for (dataset, treatment) in cand:
        if dataset in b_ds and (dataset, treatment) not in base:
            out.append(Unaligned(name, "pair_only_in_candidate", dataset, treatment))
    for dataset in dict.fromkeys(d for d, _ in base):
        if dataset not in c_ds:
            out.append(Unaligned(name, "dataset_only_in_baseline", dataset))
    for dataset in dict.fromkeys(d for d, _ in cand):
        if dataset not in b_ds:
            out.append(Unaligned(name, "dataset_only_in_candidate", dataset))
    return out


def _file_notes(base_name: str, base: SuiteResult, name: str, cand: SuiteResult) -> list[str]:
    notes = []
    if base.suite.get("name") != cand.suite.get("name"):
        notes.append(f"{name}: suite '{cand.suite.get('name')}' differs from the baseline's "
                     f"'{base.suite.get('name')}'; only what aligns is compared")
    elif base.suite.get("sha256") != cand.suite.get("sha256"):
        notes.append(f"{name}: suite '{cand.suite.get('name')}' was run with a different "
                     "configuration than the baseline (suite sha256 differs)")
    if not cand.complete:
        notes.append(f"{name}: incomplete (its run was interrupted)")
    return notes


def _pair_notes(name: str, dataset: str, treatment: str, b_runs: list[dict[str, Any]],
                c_runs: list[dict[str, Any]]) -> list[str]:
    notes = []
    b, c = b_runs[0], c_runs[0]
    if _setup(b) != _setup(c):
        notes.append(f"{name}: {dataset} / {treatment}: the loss differs from the baseline's "
                     f"({_loss_text(b)} vs {_loss_text(c)})")
    for side, runs in (("baseline", b_runs), (name, c_runs)):
        bad = [r for r in runs if r["status"] != "ok"]
        if bad:
            kinds = "/".join(sorted({r["status"] for r in bad}))
            notes.append(f"{side}: {dataset} / {treatment}: {len(bad)} of {len(runs)} runs {kinds}"
                         " (left out of the means)")
    return notes


def _setup(run: dict[str, Any]) -> tuple[Any, ...]:
    """What defines a treatment besides its label: the loss and, if any, the sampler."""
    return (run["loss"], run.get("loss_params") or {}, run.get("sampler"),
            run.get("sampler_params") or {})


def _loss_text(run: dict[str, Any]) -> str:
    def call(name: str, params: dict[str, Any]) -> str:
        args = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        return f"{name}({args})" if args else name

    text = call(run["loss"], run.get("loss_params") or {})
    if run.get("sampler"):
        text += " + " + call(run["sampler"], run.get("sampler_params") or {})
    return text


def _ok(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if r["status"] == "ok"]


def _values(runs: list[dict[str, Any]], metric: str) -> dict[int, float] | None:
    """Per-seed values of ``metric`` over the ok runs; None when the ok runs lack the metric."""
    ok = _ok(runs)
    values: dict[int, float] = {}
    for run in ok:
        value = run["metrics"].get(metric)
        if value is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            continue
        values[run["seed"]] = float(value)
    if ok and not values and not any(metric in r["metrics"] for r in ok):
        return None
    return values


def _stat(values: dict[int, float]) -> Stat:
    seeds = tuple(sorted(values))
    d = describe([values[s] for s in seeds])
    return Stat(d["mean"], d["std"], len(seeds), seeds)


def _diff(pair: tuple[Stat, Stat]) -> float | None:
    b, c = pair
    return None if b.mean is None or c.mean is None else c.mean - b.mean


def _metric_delta(metric: str, b_vals: dict[int, float], c_vals: dict[int, float], gated: bool,
                  max_drop: Allowance | None, alpha: float, n_cand_runs: int,
                  n_cand_ok: int) -> MetricDelta:
    higher = METRICS[metric].higher_is_better
    base, cand = _stat(b_vals), _stat(c_vals)
    delta = gain = None
    if base.mean is not None and cand.mean is not None:
        delta = cand.mean - base.mean
        gain = delta if higher else -delta
    if gain is None:
        direction = "n/a"
    elif abs(gain) <= _TOL:
        direction = "same"
    else:
        direction = "better" if gain > 0 else "worse"
    out = MetricDelta(metric, base, cand, delta, gain, direction)
    out.test, out.p_value, out.p_note = _test(b_vals, c_vals)
    if out.p_value is not None:
        out.beyond_noise = out.p_value < alpha
    if gated and max_drop is not None:
        if base.mean is None:
            out.regression = False
            out.reason = "the baseline has no successful run: nothing to gate against"
        elif cand.mean is None:
            out.allowance = max_drop.amount(base.mean)
            out.regression = True
            out.reason = (f"no value in the candidate ({n_cand_ok} of {n_cand_runs} run(s) ok)"
                          if n_cand_ok else
                          f"no successful run in the candidate ({n_cand_runs} run(s) failed or diverged)")
        else:
            out.allowance = max_drop.amount(base.mean)
            drop = -gain  # type: ignore[operator]
            out.regression = drop > out.allowance + _TOL
            if out.regression:
                out.reason = f"dropped {drop:.4f}, more than the allowed {out.allowance:.4f}"
    return out


def _test(b: dict[int, float], c: dict[int, float]) -> tuple[str | None, float | None, str]:
    """(test name, two-sided p-value, note) for the per-seed values of both sides."""
    if len(b) < 2 or len(c) < 2:
        return None, None, "fewer than two seeds on a side: no test"
    from scipy import stats

    if set(b) == set(c):
        seeds = sorted(b)
        diffs = [c[s] - b[s] for s in seeds]
        if max(diffs) - min(diffs) <= _TOL:
            if abs(diffs[0]) <= _TOL:
                return "paired t-test", 1.0, "identical per-seed values"
            return "paired t-test", None, "every seed moved by the same amount: the test is undefined"
        name, run = "paired t-test", lambda: stats.ttest_rel([c[s] for s in seeds],
                                                              [b[s] for s in seeds])
    else:
        bv, cv = list(b.values()), list(c.values())
        if max(bv) - min(bv) <= _TOL and max(cv) - min(cv) <= _TOL:
            if abs(bv[0] - cv[0]) <= _TOL:
                return "Welch t-test", 1.0, "identical values"
            return "Welch t-test", None, "no spread on either side: the test is undefined"
        name, run = "Welch t-test", lambda: stats.ttest_ind(cv, bv, equal_var=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(run().pvalue)
    if not math.isfinite(p):
        return name, None, "the test is undefined for these values"
    return name, p, ""


def _class_delta(label: str, b_runs: list[dict[str, Any]], c_runs: list[dict[str, Any]]) -> ClassDelta:
    def stat(runs: list[dict[str, Any]], key: str) -> Stat:
        values = {}
        for run in _ok(runs):
            for row in run["per_class"]:
                if str(row.get("label")) == label and isinstance(row.get(key), (int, float)):
                    values[run["seed"]] = float(row[key])
        return _stat(values)

    return ClassDelta(label, (stat(b_runs, "recall"), stat(c_runs, "recall")),
                      (stat(b_runs, "f1"), stat(c_runs, "f1")))


def _mark_movers(pairs: list[PairComparison], gated: list[str]) -> None:
    """Flag the file's :data:`N_MOVERS` largest |gain| rows among the gated metrics."""
    rows = [m for p in pairs for m in p.metrics
            if m.metric in gated and m.gain is not None and abs(m.gain) > _TOL]
    for m in sorted(rows, key=lambda m: -abs(m.gain))[:N_MOVERS]:  # type: ignore[arg-type]
        m.mover = True
