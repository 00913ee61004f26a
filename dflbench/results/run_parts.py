"""The parts of a run record that say how a model was trained and chosen: learned loss
parameters, the per-epoch history, the calibration bins, the tuning record (docs/results.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Learned:
    """A trainable loss parameter (DFL-learnable's γ): final value and value after each epoch."""

    value: float
    trajectory: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "trajectory": list(self.trajectory)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Learned:
        return cls(d["value"], tuple(d.get("trajectory") or ()))


@dataclass(frozen=True)
class History:
    """Per epoch a model trained: its training loss (the mean of its minibatch losses; None where
    it was not finite) and, with early stopping, its validation value for ``monitor`` (a macro-F1,
    or a validation loss)."""

    loss: tuple[float | None, ...] = ()
    validation: tuple[float, ...] = ()
    monitor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"loss": list(self.loss)}
        if self.monitor is not None:
            out.update(validation=list(self.validation), monitor=self.monitor)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(tuple(d.get("loss") or ()), tuple(d.get("validation") or ()), d.get("monitor"))


@dataclass(frozen=True)
class TrainInfo:
    """How one model was trained."""

    epochs_run: int | None = None
    seconds: float | None = None
    stack_size: int | None = None
    best_epoch: int | None = None
    learned: dict[str, Learned] = field(default_factory=dict)
    resampled_counts: dict[str, int] | None = None
    history: History | None = None  # absent from files written before dflbench 0.2

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("epochs_run", "seconds", "stack_size", "best_epoch", "resampled_counts"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.learned:
            out["learned"] = {k: v.to_dict() for k, v in self.learned.items()}
        if self.history is not None:
            out["history"] = self.history.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainInfo:
        learned = {k: Learned.from_dict(v) for k, v in (d.get("learned") or {}).items()}
        history = None if d.get("history") is None else History.from_dict(d["history"])
        return cls(d.get("epochs_run"), d.get("seconds"), d.get("stack_size"), d.get("best_epoch"),
                   learned, d.get("resampled_counts"), history)


@dataclass(frozen=True)
class Calibration:
    """A model's reliability bins on the test split (Guo et al., ICML 2017; the bins of its ECE,
    :func:`dflbench.metrics.calibration_bins`): per equal-width bin of the maximum probability,
    the number of test rows, their mean confidence and their accuracy (None for an empty bin)."""

    count: tuple[int, ...]
    confidence: tuple[float | None, ...]
    accuracy: tuple[float | None, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"count": list(self.count), "confidence": list(self.confidence),
                "accuracy": list(self.accuracy)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(tuple(d["count"]), tuple(d["confidence"]), tuple(d["accuracy"]))


@dataclass(frozen=True)
class TuningRecord:
    """How a tuned treatment's configuration was chosen on one training fold: each grid point's
    mean validation ``metric`` over seeds (None if every seed diverged), and the one chosen."""

    metric: str
    grid: tuple[dict[str, Any], ...]
    scores: tuple[float | None, ...]
    chosen: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "grid": list(self.grid), "scores": list(self.scores),
                "chosen": self.chosen}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TuningRecord:
        return cls(d["metric"], tuple(d["grid"]), tuple(d["scores"]), d["chosen"])
