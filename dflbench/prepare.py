"""Dataset preparation, the first half of the data flow: source → every split of the protocol
(holdout, or repeated stratified k-fold) → imbalance synthesis on each training split → tuning
and early-stopping carves → preprocessing fitted on the fit rows.

Everything fitted on data sees the fit rows of its own training fold only, so no test (or
validation) sample leaks into training; every input error surfaces here, before any training.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dflbench.config import DatasetEntry, Suite
from dflbench.errors import ConfigError, DataError, DflbenchError, DflbenchWarning
from dflbench.plugins import is_spec
from dflbench.results.model import DatasetInfo

if TYPE_CHECKING:
    from dflbench.engine import TrainData


@dataclass(frozen=True)
class Fold:
    """One split of a dataset (a repeat's holdout split, or one fold of cross-validation),
    imbalanced and preprocessed, ready for training. ``tune`` is the tuning carve of this
    training fold, prepared the same way: trained on its own fit rows, scored on its ``test``
    rows, which are validation rows of the training fold (never the fold's test rows)."""

    repeat: int
    fold: int
    data: TrainData
    y_test: np.ndarray
    fit_counts: tuple[int, ...]  # per class, the rows the losses are fitted on
    minority: int  # the label with the fewest fit rows
    class_counts: dict[str, dict[str, int]]  # train (after imbalance), test[, validation]
    tune: Fold | None = None


@dataclass(frozen=True)
class PreparedTask:
    """One dataset with every split of the protocol prepared."""

    entry: DatasetEntry
    info: DatasetInfo
    folds: tuple[Fold, ...]

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names


def counts(y: np.ndarray, class_names: Sequence[str]) -> dict[str, int]:
    c = Counter(y.tolist())
    return {name: int(c.get(i, 0)) for i, name in enumerate(class_names)}


def take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a DataFrame (renumbered) or an array."""
    return X.iloc[idx].reset_index(drop=True) if hasattr(X, "iloc") else X[idx]


def splits(ds: Any, suite: Suite) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """(repeat, fold, train_idx, test_idx) of every split the suite's protocol asks for. Holdout
    repeat ``r`` splits with seed ``split_seed + r`` (repeat 0 is the single split of a suite
    without a protocol); cross-validation is repeated stratified k-fold seeded by ``split_seed``."""
    from dflbench.datasets.split import cv_splits, stratified_split

    p, names = suite.protocol, ds.class_names
    if p.kind == "cv":
        pairs = cv_splits(ds.y, p.folds, p.repeats, suite.split_seed, class_names=names)
        return [(i // p.folds, i % p.folds, tr, te) for i, (tr, te) in enumerate(pairs)]
    out = []
    for r in range(p.repeats):
        train_idx, test_idx = stratified_split(ds.y, suite.test_size, suite.split_seed + r,
                                               class_names=names)
        _check_test_split(ds, ds.y[test_idx], suite.test_size)
        out.append((r, 0, train_idx, test_idx))
    return out


def _trainable(X_train: Any, y_train: np.ndarray, X_test: Any, y_test: np.ndarray, kind: str,
               suite: Suite, names: Sequence[str], where: tuple[int, int]) -> Fold:
    """Early-stopping carve of the training rows, then preprocessing fitted on the fit rows."""
    from dflbench.datasets.split import validation_split
    from dflbench.engine import TrainData
    from dflbench.preprocess import preprocessor_for

    X_fit, y_fit, X_val, y_val = X_train, y_train, None, None
    es = suite.train.early_stopping
    if es is not None:
        fit_idx, val_idx = validation_split(y_train, es.validation, suite.split_seed)
        X_fit, y_fit = take(X_train, fit_idx), y_train[fit_idx]
        X_val, y_val = take(X_train, val_idx), y_train[val_idx]
    pre = preprocessor_for(kind).fit(X_fit)
    fit_counts = tuple(counts(y_fit, names).values())
    if min(fit_counts) == 0:
        empty = [n for n, c in zip(names, fit_counts) if c == 0]
        raise ConfigError(f"class {', '.join(empty)} has no training samples left")
    data = TrainData(
        X_train=pre.transform(X_fit), y_train=y_fit.astype(np.int64),
        X_val=None if X_val is None else pre.transform(X_val),
        y_val=None if y_val is None else y_val.astype(np.int64),
        X_test=pre.transform(X_test), n_classes=len(names),
    )
    split_counts = {"train": counts(y_train, names), "test": counts(y_test, names)}
    if y_val is not None:
        split_counts["validation"] = counts(y_val, names)
    return Fold(where[0], where[1], data, y_test, fit_counts, int(np.argmin(fit_counts)),
                split_counts)


def _fold(ds: Any, spec: Any, suite: Suite, split: tuple[int, int, np.ndarray, np.ndarray]) -> Fold:
    """Imbalance synthesis on one split's training rows, then the fold (and its tuning carve)."""
    from dflbench.datasets.split import validation_split
    from dflbench.imbalance import apply_imbalance, shortfall

    repeat, fold, train_idx, test_idx = split
    X_train, y_train = take(ds.X, train_idx), ds.y[train_idx]
    if spec is not None:
        before = np.bincount(y_train, minlength=len(ds.class_names))
        X_train, y_train = apply_imbalance(X_train, y_train, spec, suite.split_seed)
        missed = shortfall(spec, before, np.bincount(y_train, minlength=len(ds.class_names)))
        if missed is not None and (repeat, fold) == (0, 0):  # once per dataset, not per fold
            warnings.warn(DflbenchWarning(f"dataset '{ds.name}': {missed}"), stacklevel=2)
    names = ds.class_names
    main = _trainable(X_train, y_train, take(ds.X, test_idx), ds.y[test_idx], ds.kind, suite,
                      names, (repeat, fold))
    if not suite.tuned:
        return main
    assert suite.tuning is not None
    fit_idx, val_idx = validation_split(y_train, suite.tuning.validation, suite.split_seed)
    tune = _trainable(take(X_train, fit_idx), y_train[fit_idx], take(X_train, val_idx),
                      y_train[val_idx], ds.kind, suite, names, (repeat, fold))
    return replace(main, tune=tune)


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
    """Load → split (every split of the protocol) → imbalance → carves → preprocess a dataset."""
    from dflbench.datasets import SOURCES
    from dflbench.imbalance import parse_imbalance

    try:
        ds = SOURCES.build(entry.source, dict(entry.params), reserved={"name": entry.name})
        spec = None if entry.imbalance is None else parse_imbalance(entry.imbalance, ds.class_names)
        folds = tuple(_fold(ds, spec, suite, split) for split in splits(ds, suite))
    except DflbenchError as exc:
        raise type(exc)(f"dataset '{entry.name}': {exc}") from None
    return PreparedTask(entry, _info(entry, ds, spec, folds), folds)


def _info(entry: DatasetEntry, ds: Any, spec: Any, folds: tuple[Fold, ...]) -> DatasetInfo:
    """The dataset as the first split prepared it (every split's counts when there are several)."""
    from dflbench.imbalance import imbalance_ratio

    first, names = folds[0], ds.class_names
    shape = first.data.X_train.shape[1:]
    return DatasetInfo(
        name=entry.name, source=entry.source, description=ds.description,
        n_samples=len(ds.y), n_features=int(np.prod(shape)), n_classes=len(names),
        class_names=tuple(names), class_counts=first.class_counts,
        imbalance_ratio=float(imbalance_ratio(list(first.class_counts["train"].values()))),
        minority_class=names[first.minority], imbalance=None if spec is None else spec.as_dict(),
        kind=ds.kind, input_shape=tuple(int(v) for v in shape),
        splits=tuple({"repeat": f.repeat, "fold": f.fold, "class_counts": f.class_counts}
                     for f in folds) if len(folds) > 1 else (),
    )


def check_losses(suite: Suite, task: PreparedTask) -> None:
    """Build every loss against this dataset's class counts, and check every sampler against
    them, so bad parameters fail before training."""
    from dflbench.losses import get_loss
    from dflbench.samplers import check_counts

    fit_counts = {f.fit_counts for f in task.folds}
    for i, lo in enumerate(suite.losses):
        try:
            for counts_ in fit_counts:
                loss = get_loss(lo.name, class_counts=list(counts_), **lo.params)
                if is_spec(lo.name):  # user code: its forward must run and stay finite
                    _try_plugin_loss(loss, len(task.class_names))
                if lo.sampler is not None:
                    check_counts(lo.sampler, lo.sampler_params, counts_, task.class_names)
        except (DflbenchError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{suite.source}: losses[{i}] ({lo.label}) on dataset '{task.entry.name}': {exc}"
            ) from None


def _try_plugin_loss(loss: Any, n_classes: int) -> None:
    """Run a plugin loss once on a small batch: an exception or a non-finite value in its
    ``forward`` is one line now, not a failed run after training."""
    import torch

    from dflbench.plugins import raised

    logits = torch.randn(8, n_classes, generator=torch.Generator().manual_seed(0))
    targets = torch.arange(8) % n_classes
    try:
        value = loss.per_sample(logits, targets)
    except Exception as exc:  # user code
        raise ConfigError(f"forward raised {raised(exc)}") from None
    if tuple(value.shape) != (8,):
        raise ConfigError(f"forward returned shape {tuple(value.shape)} for 8 samples; it must "
                          "return one loss per sample, shape (N,)")
    if not bool(torch.isfinite(value).all()):
        raise ConfigError("forward returned a non-finite loss on an ordinary batch")


def check_memory(suite: Suite, task: PreparedTask, device: str) -> None:
    """Refuse a model whose stack of (losses × seeds) models would not fit in the memory
    available on ``device``, with the figure (:mod:`dflbench.memory`); nothing is allocated."""
    from dflbench.memory import available_bytes, gib, stack_memory
    from dflbench.models import footprint
    from dflbench.tuning import configurations

    data = task.folds[0].data
    size = footprint(suite.model.name, suite.model.params, input_shape=data.X_train.shape[1:],
                     n_classes=len(task.class_names))
    if size is None:
        return
    # The largest stack: every treatment, or every tuning configuration, × seeds.
    n_configs = sum(len(configurations(lo, suite.tuning, suite.split_seed))
                    for lo in suite.losses if lo.tune)
    k = max(len(suite.losses), n_configs) * len(suite.seeds)
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


def _try_plugin_model(model: Any, rows: np.ndarray, n_classes: int) -> None:
    """One forward pass of a plugin model on two rows: an exception or logits of the wrong shape
    is one line now, not a failed run after training."""
    import torch

    from dflbench.plugins import raised

    try:
        logits = model(torch.as_tensor(rows)[None])
    except Exception as exc:  # user code
        raise ConfigError(f"forward raised {raised(exc)}") from None
    if tuple(logits.shape) != (1, len(rows), n_classes):
        raise ConfigError(f"forward gave logits of shape {tuple(logits.shape[1:])} for "
                          f"{len(rows)} rows; expected ({len(rows)}, {n_classes})")


def check_model(suite: Suite, task: PreparedTask) -> None:
    """Build the suite's model once for this dataset's shape, so a mismatch fails before training."""
    from dflbench.models import build_model

    data = task.folds[0].data
    try:
        model = build_model(suite.model.name, suite.model.params, n_models=1,
                            input_shape=data.X_train.shape[1:], n_classes=len(task.class_names),
                            seeds=[0])
        if is_spec(suite.model.name):  # user code: one forward pass on two rows, shape checked
            _try_plugin_model(model, data.X_train[:2], len(task.class_names))
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
