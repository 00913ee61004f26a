"""Dataset preparation, the first half of the data flow: source → stratified split → imbalance
synthesis on the training split → early-stopping carve → preprocessing fitted on the fit rows.

Everything fitted on data sees the fit rows only, so no test (or validation) sample leaks into
training; every input error surfaces here, before any training starts.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dflbench.config import DatasetEntry, Suite
from dflbench.errors import ConfigError, DataError, DflbenchError, DflbenchWarning
from dflbench.results.model import DatasetInfo

if TYPE_CHECKING:
    from dflbench.engine import TrainData


@dataclass(frozen=True)
class PreparedTask:
    """One dataset, split, imbalanced and preprocessed, ready for training."""

    entry: DatasetEntry
    info: DatasetInfo
    data: TrainData
    y_test: np.ndarray
    fit_counts: tuple[int, ...]  # per class, the rows the losses are fitted on
    minority: int  # the label with the fewest fit rows

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names


def counts(y: np.ndarray, class_names: Sequence[str]) -> dict[str, int]:
    c = Counter(y.tolist())
    return {name: int(c.get(i, 0)) for i, name in enumerate(class_names)}


def take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a DataFrame (renumbered) or an array."""
    return X.iloc[idx].reset_index(drop=True) if hasattr(X, "iloc") else X[idx]


@dataclass
class _Split:
    X_fit: Any
    y_fit: np.ndarray
    X_val: Any
    y_val: np.ndarray | None
    y_train: np.ndarray  # after imbalance synthesis, before the validation carve
    X_test: Any
    y_test: np.ndarray
    spec: Any  # the parsed imbalance specification, or None


def _split(ds: Any, entry: DatasetEntry, suite: Suite) -> _Split:
    from dflbench.datasets.split import stratified_split, validation_split
    from dflbench.imbalance import apply_imbalance, parse_imbalance, shortfall

    train_idx, test_idx = stratified_split(ds.y, suite.test_size, suite.split_seed,
                                           class_names=ds.class_names)
    _check_test_split(ds, ds.y[test_idx], suite.test_size)
    X_train, y_train = take(ds.X, train_idx), ds.y[train_idx]
    spec = None
    if entry.imbalance is not None:
        spec = parse_imbalance(entry.imbalance, ds.class_names)
        before = np.bincount(y_train, minlength=len(ds.class_names))
        X_train, y_train = apply_imbalance(X_train, y_train, spec, suite.split_seed)
        missed = shortfall(spec, before, np.bincount(y_train, minlength=len(ds.class_names)))
        if missed is not None:
            warnings.warn(DflbenchWarning(f"dataset '{entry.name}': {missed}"), stacklevel=2)
    X_fit, y_fit, X_val, y_val = X_train, y_train, None, None
    es = suite.train.early_stopping
    if es is not None:
        fit_idx, val_idx = validation_split(y_train, es.validation, suite.split_seed)
        X_fit, y_fit = take(X_train, fit_idx), y_train[fit_idx]
        X_val, y_val = take(X_train, val_idx), y_train[val_idx]
    return _Split(X_fit, y_fit, X_val, y_val, y_train, take(ds.X, test_idx), ds.y[test_idx], spec)


def _check_test_split(ds: Any, y_test: np.ndarray, test_size: float) -> None:
    """Refuse a split that leaves a class without test samples: its recall and F1 would be an
    undefined 0 (scikit-learn warns and reports 0), not a measurement. A test share of at least
    1/n guarantees one of a class's n samples (scikit-learn's stratified allocation)."""
    tested = np.bincount(y_test, minlength=len(ds.class_names))
    total = np.bincount(ds.y, minlength=len(ds.class_names))
    for c in np.flatnonzero(tested == 0):
        need = math.ceil(100 / total[c]) / 100
        raise DataError(f"class '{ds.class_names[c]}' has {total[c]} samples and none falls in the "
                        f"test split (test_size {test_size:g}), so its recall and F1 would be "
                        f"undefined; set test_size >= {need:g} or give the class more samples")


def prepare_task(entry: DatasetEntry, suite: Suite) -> PreparedTask:
    """Load → split → imbalance → carve → preprocess one dataset of the suite."""
    from dflbench.datasets import SOURCES
    from dflbench.engine import TrainData
    from dflbench.preprocess import preprocessor_for

    where = f"dataset '{entry.name}'"
    try:
        ds = SOURCES.build(entry.source, dict(entry.params), reserved={"name": entry.name})
        s = _split(ds, entry, suite)
        pre = preprocessor_for(ds.kind).fit(s.X_fit)
    except DflbenchError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    names = ds.class_names
    fit_counts = tuple(counts(s.y_fit, names).values())
    if min(fit_counts) == 0:
        empty = [n for n, c in zip(names, fit_counts) if c == 0]
        raise ConfigError(f"{where}: class {', '.join(empty)} has no training samples left")
    data = TrainData(
        X_train=pre.transform(s.X_fit), y_train=s.y_fit.astype(np.int64),
        X_val=None if s.X_val is None else pre.transform(s.X_val),
        y_val=None if s.y_val is None else s.y_val.astype(np.int64),
        X_test=pre.transform(s.X_test), n_classes=len(names),
    )
    minority = int(np.argmin(fit_counts))
    info = _info(entry, ds, s, data, minority)
    return PreparedTask(entry, info, data, s.y_test, fit_counts, minority)


def _info(entry: DatasetEntry, ds: Any, s: _Split, data: TrainData, minority: int) -> DatasetInfo:
    from dflbench.imbalance import imbalance_ratio

    names = ds.class_names
    train_counts = counts(s.y_train, names)
    split_counts = {"train": train_counts, "test": counts(s.y_test, names)}
    if s.y_val is not None:
        split_counts["validation"] = counts(s.y_val, names)
    return DatasetInfo(
        name=entry.name, source=entry.source, description=ds.description,
        n_samples=len(ds.y), n_features=int(np.prod(data.X_train.shape[1:])),
        n_classes=len(names), class_names=tuple(names), class_counts=split_counts,
        imbalance_ratio=float(imbalance_ratio(list(train_counts.values()))),
        minority_class=names[minority], imbalance=None if s.spec is None else s.spec.as_dict(),
        kind=ds.kind, input_shape=tuple(int(v) for v in data.X_train.shape[1:]),
    )


def check_losses(suite: Suite, task: PreparedTask) -> None:
    """Build every loss against this dataset's class counts, and check every sampler against
    them, so bad parameters fail before training."""
    from dflbench.losses import get_loss
    from dflbench.samplers import check_counts

    for i, lo in enumerate(suite.losses):
        try:
            get_loss(lo.name, class_counts=list(task.fit_counts), **lo.params)
            if lo.sampler is not None:
                check_counts(lo.sampler, lo.sampler_params, task.fit_counts, task.class_names)
        except (DflbenchError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{suite.source}: losses[{i}] ({lo.label}) on dataset '{task.entry.name}': {exc}"
            ) from None


def check_memory(suite: Suite, task: PreparedTask, device: str) -> None:
    """Refuse a model whose stack of (losses × seeds) models would not fit in the memory
    available on ``device``, with the figure (:mod:`dflbench.memory`); nothing is allocated."""
    from dflbench.memory import available_bytes, gib, stack_memory
    from dflbench.models import footprint

    data = task.data
    size = footprint(suite.model.name, suite.model.params, input_shape=data.X_train.shape[1:],
                     n_classes=len(task.class_names))
    if size is None:
        return
    k = len(suite.losses) * len(suite.seeds)
    scored = max(len(data.X_test), 0 if data.X_val is None else len(data.X_val))
    need = stack_memory(size, k, suite.train.batch_size, scored,
                        suite.train.early_stopping is not None)
    free = available_bytes(device)
    if free is not None and need.total > free:
        raise ConfigError(
            f"{suite.source}: model '{suite.model.name}' on dataset '{task.entry.name}': "
            f"{k} stacked models need about {gib(need.total)} ({size.parameters * k:,} parameters: "
            f"{gib(need.parameters)}; activations: {gib(need.activations)}) but {gib(free)} is "
            f"free on {device}; use a smaller model, or fewer losses or seeds")


def check_model(suite: Suite, task: PreparedTask) -> None:
    """Build the suite's model once for this dataset's shape, so a mismatch fails before training."""
    from dflbench.models import build_model

    try:
        build_model(suite.model.name, suite.model.params, n_models=1,
                    input_shape=task.data.X_train.shape[1:], n_classes=len(task.class_names),
                    seeds=[0])
    except (DflbenchError, ValueError, TypeError) as exc:
        raise ConfigError(f"{suite.source}: model '{suite.model.name}' on dataset "
                          f"'{task.entry.name}': {exc}") from None


def prepare(suite: Suite, device: str = "cpu") -> list[PreparedTask]:
    """Every dataset prepared and every loss, sampler and model checked (the model's memory
    against ``device``'s): all input errors surface here."""
    tasks = [prepare_task(entry, suite) for entry in suite.datasets]
    for task in tasks:
        check_losses(suite, task)
        check_memory(suite, task, device)
        check_model(suite, task)
        if suite.train.augment.active and task.info.kind != "image":
            raise ConfigError(f"{suite.source}: train.augment: dataset '{task.entry.name}' is "
                              "tabular; shifts and flips apply to image datasets only")
    return tasks
