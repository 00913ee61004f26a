"""The typed result model: what a run produced, built once by the runner and read by statistics,
``compare`` and every renderer (docs/results.md).

Each class maps to one object of the result file (schema version :data:`SCHEMA_VERSION`);
``to_dict`` writes it, ``from_dict`` reads a validated one. Later additions (a run's confusion
matrix, calibration bins and training history; folds and tuning) are new optional fields, so older
files still read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dflbench import __version__
from dflbench.results.run_parts import Calibration, History, Learned, TrainInfo, TuningRecord

SCHEMA_VERSION = 2

__all__ = ["SCHEMA_VERSION", "Calibration", "ClassMetrics", "ClassSummary", "DatasetInfo",
           "History", "Learned", "RunRecord", "RunStatus", "Stat", "SuiteResult", "SummaryRow",
           "TrainInfo", "Treatment", "TuningRecord"]


class RunStatus(str, enum.Enum):
    """How one model's training ended."""

    OK = "ok"
    DIVERGED = "diverged"  # the training loss became non-finite; no metrics
    FAILED = "failed"  # an error stopped it (recorded in ``error``); no metrics


@dataclass(frozen=True)
class Stat:
    """A value over runs: mean, sample standard deviation and a Student-t 95% interval.

    ``std``/``ci95`` are None below two values, with the reason in ``note``.
    """

    mean: float | None
    std: float | None = None
    ci95: tuple[float, float] | None = None
    note: str | None = None

    def to_dict(self, brief: bool = False) -> dict[str, Any]:
        """``brief``: mean and std only (per-class and learned values)."""
        out: dict[str, Any] = {"mean": self.mean, "std": self.std}
        if not brief:
            out["ci95"] = None if self.ci95 is None else list(self.ci95)
            if self.note is not None:
                out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stat:
        ci = d.get("ci95")
        return cls(d.get("mean"), d.get("std"), None if ci is None else (ci[0], ci[1]), d.get("note"))


@dataclass(frozen=True)
class ClassMetrics:
    """One class's figures for one model on the test split."""

    label: str
    support: int
    precision: float
    recall: float
    f1: float  # over pixels, the Dice coefficient
    iou: float | None = None  # segmentation only

    def to_dict(self) -> dict[str, Any]:
        out = {"label": self.label, "support": self.support, "precision": self.precision,
               "recall": self.recall, "f1": self.f1}
        if self.iou is not None:
            out["iou"] = self.iou
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassMetrics:
        return cls(d["label"], d["support"], d["precision"], d["recall"], d["f1"], d.get("iou"))


@dataclass(frozen=True)
class Treatment:
    """What a report label stands for: a loss with its parameters and an optional sampler."""

    label: str
    loss: str
    loss_title: str
    loss_params: dict[str, Any] = field(default_factory=dict)
    sampler: str | None = None
    sampler_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"treatment": self.label, "loss": self.loss, "loss_title": self.loss_title,
                "loss_params": self.loss_params, "sampler": self.sampler,
                "sampler_params": self.sampler_params}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Treatment:
        return cls(d["treatment"], d.get("loss", d["treatment"]),
                   d.get("loss_title") or d.get("loss", d["treatment"]),
                   d.get("loss_params") or {}, d.get("sampler"), d.get("sampler_params") or {})

    def describe(self) -> str:
        """``loss(k=v, ...) + sampler(k=v)``: what defines the treatment besides its label."""
        def call(name: str, params: dict[str, Any]) -> str:
            args = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
            return f"{name}({args})" if args else name

        text = call(self.loss, self.loss_params)
        return text + (f" + {call(self.sampler, self.sampler_params)}" if self.sampler else "")

    def setup(self) -> tuple[Any, ...]:
        return self.loss, self.loss_params, self.sampler, self.sampler_params


@dataclass(frozen=True)
class RunRecord:
    """One trained model: a treatment on a dataset with one seed (and repeat/fold of the split)."""

    dataset: str
    treatment: Treatment
    seed: int
    status: RunStatus
    metrics: dict[str, float | None] = field(default_factory=dict)
    per_class: tuple[ClassMetrics, ...] = ()
    train: TrainInfo = field(default_factory=TrainInfo)
    error: str | None = None
    repeat: int = 0
    fold: int = 0
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    tuning: TuningRecord | None = None
    #: Test-split counts, rows the true class, columns the predicted one (C × C); None when the
    #: run has no metrics or its file predates them.
    confusion: tuple[tuple[int, ...], ...] | None = None
    calibration: Calibration | None = None
    #: Segmentation, first split and first seed: the predicted mask of each of the dataset's
    #: sample images (:attr:`DatasetInfo.samples`), encoded by :mod:`dflbench.results.pictures`.
    predictions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    @property
    def label(self) -> str:
        return self.treatment.label

    def to_dict(self) -> dict[str, Any]:
        out = {"dataset": self.dataset, **self.treatment.to_dict(), "seed": self.seed,
               "repeat": self.repeat, "fold": self.fold, "status": self.status.value,
               "metrics": self.metrics, "per_class": [c.to_dict() for c in self.per_class],
               "train": self.train.to_dict(), "class_counts": self.class_counts}
        if self.error is not None:
            out["error"] = self.error
        if self.tuning is not None:
            out["tuning"] = self.tuning.to_dict()
        if self.confusion is not None:
            out["confusion"] = [list(row) for row in self.confusion]
        if self.calibration is not None:
            out["calibration"] = self.calibration.to_dict()
        if self.predictions:
            out["predictions"] = list(self.predictions)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        tuning = d.get("tuning")
        confusion = d.get("confusion")
        calibration = d.get("calibration")
        return cls(d["dataset"], Treatment.from_dict(d), d["seed"], RunStatus(d["status"]),
                   dict(d.get("metrics") or {}),
                   tuple(ClassMetrics.from_dict(c) for c in d.get("per_class") or ()),
                   TrainInfo.from_dict(d.get("train") or {}), d.get("error"),
                   d.get("repeat", 0), d.get("fold", 0), d.get("class_counts") or {},
                   None if tuning is None else TuningRecord.from_dict(tuning),
                   None if confusion is None else tuple(tuple(row) for row in confusion),
                   None if calibration is None else Calibration.from_dict(calibration),
                   tuple(d.get("predictions") or ()))


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as it was prepared: its origin, shape, classes and split counts."""

    name: str
    source: str
    description: str
    n_samples: int
    n_features: int
    n_classes: int
    class_names: tuple[str, ...]
    class_counts: dict[str, dict[str, int]]  # split ("train", "test", "validation") → class → n
    imbalance_ratio: float
    minority_class: str
    imbalance: dict[str, Any] | None = None
    kind: str = "tabular"
    input_shape: tuple[int, ...] = ()
    #: With several splits (repeats, folds): each one's ``{repeat, fold, class_counts}``;
    #: ``class_counts`` above are the first split's.
    splits: tuple[dict[str, Any], ...] = ()
    #: Segmentation: a few test images of the first split with their masks, shown beside each
    #: treatment's prediction (``positions``, ``images``, ``masks``; :mod:`dflbench.results.pictures`).
    samples: dict[str, Any] | None = None

    _KEYS = ("name", "source", "description", "n_samples", "n_features", "n_classes",
             "imbalance_ratio", "minority_class", "imbalance", "kind")

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self._KEYS}
        out.update(class_names=list(self.class_names), class_counts=self.class_counts,
                   input_shape=list(self.input_shape))
        if self.splits:
            out["splits"] = list(self.splits)
        if self.samples is not None:
            out["samples"] = self.samples
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInfo:
        return cls(**{k: d.get(k) for k in cls._KEYS if k in d},
                   class_names=tuple(d["class_names"]), class_counts=d["class_counts"],
                   input_shape=tuple(d.get("input_shape") or ()),
                   splits=tuple(d.get("splits") or ()), samples=d.get("samples"))


@dataclass(frozen=True)
class ClassSummary:
    label: str
    recall: Stat
    f1: Stat
    iou: Stat | None = None  # segmentation only

    def to_dict(self) -> dict[str, Any]:
        out = {"label": self.label, "recall": self.recall.to_dict(brief=True),
               "f1": self.f1.to_dict(brief=True)}
        if self.iou is not None:
            out["iou"] = self.iou.to_dict(brief=True)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassSummary:
        iou = d.get("iou")
        return cls(d["label"], Stat.from_dict(d["recall"]), Stat.from_dict(d["f1"]),
                   None if iou is None else Stat.from_dict(iou))


@dataclass(frozen=True)
class SummaryRow:
    """One (dataset, treatment) over its successful runs (seeds × repeats × folds)."""

    dataset: str
    treatment: Treatment
    n_ok: int
    n_runs: int
    metrics: dict[str, Stat] = field(default_factory=dict)
    per_class: tuple[ClassSummary, ...] = ()
    learned: dict[str, Stat] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.treatment.label

    def to_dict(self) -> dict[str, Any]:
        out = {"dataset": self.dataset, **self.treatment.to_dict(), "n_ok": self.n_ok,
               "n_runs": self.n_runs, "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
               "per_class": [c.to_dict() for c in self.per_class]}
        if self.learned:
            out["learned"] = {k: v.to_dict(brief=True) for k, v in self.learned.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SummaryRow:
        return cls(d["dataset"], Treatment.from_dict(d), d["n_ok"], d["n_runs"],
                   {k: Stat.from_dict(v) for k, v in d["metrics"].items()},
                   tuple(ClassSummary.from_dict(c) for c in d["per_class"]),
                   {k: Stat.from_dict(v) for k, v in (d.get("learned") or {}).items()})


@dataclass
class SuiteResult:
    """Everything a run produced: provenance, per-dataset facts, per-model runs, the summary."""

    suite: dict[str, Any]  # name, sha256, config (the resolved suite, as validated)
    environment: dict[str, Any]
    protocol: dict[str, Any] = field(default_factory=dict)
    datasets: list[DatasetInfo] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    summary: list[SummaryRow] = field(default_factory=list)
    complete: bool = True
    #: ``reused`` and ``computed``: dataset names; ``origins`` (optional): per reused dataset,
    #: the run that computed it (``created``, ``suite``, ``result``).
    cache: dict[str, Any] = field(default_factory=lambda: {"reused": [], "computed": []})
    created: str = ""
    dflbench_version: str = __version__
    schema_version: int = SCHEMA_VERSION

    @property
    def name(self) -> str:
        return str(self.suite.get("name", "?"))

    @property
    def failed_runs(self) -> list[RunRecord]:
        return [r for r in self.runs if r.status is RunStatus.FAILED]

    @property
    def dataset_names(self) -> list[str]:
        """Every dataset the file holds, in suite order: those with a record, then any that only
        runs name."""
        return list(dict.fromkeys([d.name for d in self.datasets] + [r.dataset for r in self.runs]))

    @property
    def metric_names(self) -> list[str]:
        """The metrics the suite asked for, in its order (empty for a file that does not say)."""
        return list(self.suite.get("config", {}).get("metrics") or [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version, "dflbench_version": self.dflbench_version,
            "created": self.created, "complete": self.complete, "cache": self.cache,
            "suite": self.suite, "environment": self.environment, "protocol": self.protocol,
            "datasets": [d.to_dict() for d in self.datasets],
            "runs": [r.to_dict() for r in self.runs],
            "summary": [s.to_dict() for s in self.summary],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SuiteResult:
        return cls(
            suite=d["suite"], environment=d["environment"], protocol=d.get("protocol") or {},
            datasets=[DatasetInfo.from_dict(x) for x in d["datasets"]],
            runs=[RunRecord.from_dict(x) for x in d["runs"]],
            summary=[SummaryRow.from_dict(x) for x in d["summary"]],
            complete=d.get("complete", True),
            cache=d.get("cache") or {"reused": [], "computed": []}, created=d["created"],
            dflbench_version=d["dflbench_version"], schema_version=d["schema_version"],
        )
