"""The suite as dflbench holds it once validated: frozen dataclasses and the resolved
configuration result files store (docs/suite-file.md describes every key)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from dflbench.augment import Augment

DEFAULT_METRICS = ("macro_f1", "balanced_accuracy", "gmean", "mcc", "minority_recall", "ece")
# Declared here only (torch-free, for validating suites); the engine implements each name
# (dflbench/engine/optim.py, dflbench/engine/stopping.py) and its tests run every one.
OPTIMIZERS = ("adam", "adamw", "sgd")
MONITORS = ("macro_f1", "loss")


@dataclass(frozen=True)
class EarlyStopping:
    patience: int = 10
    validation: float = 0.2
    monitor: str = "macro_f1"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1.0e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    early_stopping: EarlyStopping | None = None
    augment: Augment = field(default_factory=Augment)


@dataclass(frozen=True)
class ModelConfig:
    name: str = "mlp"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    imbalance: dict[str, Any] | None = None


@dataclass(frozen=True)
class LossEntry:
    """One treatment: a loss with its parameters and an optional resampling of the training set
    (an imbalanced-learn sampler), shown under ``label`` in reports (default ``loss+sampler``).

    ``tune`` maps a loss parameter (or ``sampler.<parameter>``) to the values to try; the
    configurations are their cartesian product, in order."""

    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    sampler: str | None = None
    sampler_params: dict[str, Any] = field(default_factory=dict)
    tune: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "label": self.label, **self.params}
        if self.sampler:
            out["sampler"] = {"name": self.sampler, **self.sampler_params}
        if self.tune:
            out["tune"] = {k: list(v) for k, v in self.tune.items()}
        return out


@dataclass(frozen=True)
class Protocol:
    """How each dataset is split for scoring: ``holdout`` (one stratified train/test split per
    repeat, ``test_size`` of the samples held out) or ``cv`` (repeated stratified k-fold: every
    sample is in a test fold exactly once per repeat; repeats reshuffle)."""

    kind: str = "holdout"
    folds: int | None = None
    repeats: int = 1

    def describe(self, test_size: float) -> str:
        again = "" if self.repeats == 1 else f" × {self.repeats} repeats"
        if self.kind == "cv":
            return f"{self.folds}-fold stratified cross-validation{again}"
        return f"stratified holdout, {test_size:g} of the samples for testing{again}"


@dataclass(frozen=True)
class Tuning:
    """Equal-budget tuning: each tuned treatment's configurations are trained on a stratified
    ``validation`` carve of every training fold, scored by ``metric``, and the best is refitted
    on the whole training fold. ``budget`` caps the configurations per treatment (a seeded sample
    of a larger grid); None tries them all."""

    validation: float = 0.25
    metric: str = "macro_f1"
    budget: int | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    seeds: tuple[int, ...]
    split_seed: int
    test_size: float
    model: ModelConfig
    train: TrainConfig
    datasets: tuple[DatasetEntry, ...]
    losses: tuple[LossEntry, ...]
    metrics: tuple[str, ...]
    source: str = "<dict>"
    protocol: Protocol = field(default_factory=Protocol)
    tuning: Tuning | None = None
    plugins: tuple[str, ...] = ()  # plugin files (absolute paths) and modules, loaded in order

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration, as stored in result files."""
        es = self.train.early_stopping
        return {
            "name": self.name,
            "description": self.description,
            "seeds": list(self.seeds),
            "split_seed": self.split_seed,
            "test_size": self.test_size,
            "model": {"name": self.model.name, **self.model.params},
            "train": {
                "epochs": self.train.epochs,
                "batch_size": self.train.batch_size,
                "lr": self.train.lr,
                "weight_decay": self.train.weight_decay,
                "optimizer": self.train.optimizer,
                "early_stopping": None if es is None else {
                    "patience": es.patience, "validation": es.validation, "monitor": es.monitor
                },
                **({"augment": {"shift": self.train.augment.shift, "flip": self.train.augment.flip}}
                   if self.train.augment.active else {}),
            },
            "datasets": [
                {"name": d.name, "source": d.source, **d.params,
                 **({"imbalance": d.imbalance} if d.imbalance else {})}
                for d in self.datasets
            ],
            "losses": [lo.to_dict() for lo in self.losses],
            "metrics": list(self.metrics),
            **self._protocol_and_tuning(),
        }

    def _protocol_and_tuning(self) -> dict[str, Any]:
        """The ``protocol`` and ``tuning`` keys, present only when they differ from a plain
        holdout without tuning (so a suite written before they existed keeps its hash)."""
        out: dict[str, Any] = {}
        if self.plugins:
            out["plugins"] = list(self.plugins)
        if self.protocol != Protocol():
            out["protocol"] = {"kind": self.protocol.kind, "repeats": self.protocol.repeats,
                               **({"folds": self.protocol.folds} if self.protocol.folds else {})}
        if self.tuning is not None:
            out["tuning"] = {"validation": self.tuning.validation, "metric": self.tuning.metric,
                             "budget": self.tuning.budget}
        return out

    def protocol_record(self) -> dict[str, Any]:
        """How the data is split for scoring, as result files record it (docs/results.md)."""
        p = self.protocol
        record = {"kind": p.kind, "split_seed": self.split_seed, "repeats": p.repeats}
        record.update({"folds": p.folds} if p.kind == "cv" else {"test_size": self.test_size})
        return record

    @property
    def plugin_refs(self) -> tuple[str, ...]:
        """Every piece of outside code the suite runs, in order: its ``plugins``, then the file or
        module of each model or loss named ``FILE.py:Class`` / ``package.module:Class``."""
        from dflbench.plugins import is_spec

        names = (self.model.name, *(lo.name for lo in self.losses))
        return tuple(dict.fromkeys([*self.plugins,
                                    *(n.rpartition(":")[0] for n in names if is_spec(n))]))

    @property
    def tuned(self) -> bool:
        return any(lo.tune for lo in self.losses)

    def sha256(self) -> str:
        """Hash of the resolved configuration (canonical JSON), for provenance and caching."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()
