"""Dataset preparation, the first half of the data flow: source → every split of the protocol
(holdout, or repeated stratified k-fold) → imbalance synthesis on each training split → tuning
and early-stopping carves → preprocessing fitted on the fit rows.

Everything fitted on data sees the fit rows of its own training fold only, so no test (or
validation) sample leaks into training; every input error surfaces here, before any training.
"""

from __future__ import annotations

import math
import warnings
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
    #: Segmentation, first split only: the sample test images reports show (:func:`_samples`).
    samples: dict[str, Any] | None = None


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
    """Samples per class of labels ``y`` (N,), or pixels per class of masks (N, H, W), ignored
    pixels left out."""
    labelled = y[y >= 0] if y.ndim > 1 else y
    c = np.bincount(labelled.ravel(), minlength=len(class_names))
    return {name: int(c[i]) for i, name in enumerate(class_names)}


def take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a DataFrame (renumbered) or an array."""
    return X.iloc[idx].reset_index(drop=True) if hasattr(X, "iloc") else X[idx]


def targets(ds: Any, idx: np.ndarray) -> np.ndarray:
    """What a model learns for rows ``idx``: their labels, or their masks for segmentation."""
    return ds.y[idx] if ds.masks is None else ds.masks[idx]


def _split_labels(ds: Any, least: int) -> np.ndarray:
    """The labels splits are stratified on. A segmentation image's label is its rarest class
    (its stratum); a stratum of fewer than ``least`` images joins the most common one, since
    every image must still fall somewhere."""
    if ds.masks is None:
        return ds.y
    sizes = np.bincount(ds.y)
    return np.where(sizes[ds.y] < least, int(np.argmax(sizes)), ds.y)


def splits(ds: Any, suite: Suite) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """(repeat, fold, train_idx, test_idx) of every split the suite's protocol asks for. Holdout
    repeat ``r`` splits with seed ``split_seed + r`` (repeat 0 is the single split of a suite
    without a protocol); cross-validation is repeated stratified k-fold seeded by ``split_seed``."""
    from dflbench.datasets.split import cv_splits, stratified_split

    p, names = suite.protocol, ds.class_names
    segmentation = ds.masks is not None
    y = _split_labels(ds, p.folds if p.kind == "cv" else 2)
    names = None if segmentation else names  # strata: a class may be no image's rarest
    if p.kind == "cv":
        pairs = cv_splits(y, p.folds, p.repeats, suite.split_seed, class_names=names)
        return [(i // p.folds, i % p.folds, tr, te) for i, (tr, te) in enumerate(pairs)]
    out = []
    for r in range(p.repeats):
        train_idx, test_idx = stratified_split(y, suite.test_size, suite.split_seed + r,
                                               class_names=names)
        if not segmentation:
            _check_test_split(ds, ds.y[test_idx], suite.test_size)
        out.append((r, 0, train_idx, test_idx))
    return out


def _trainable(ds: Any, train_idx: np.ndarray, test_idx: np.ndarray, suite: Suite,
               where: tuple[int, int], carve: bool = False) -> Fold:
    """Early-stopping carve of the training rows, then preprocessing fitted on the fit rows.
    A tuning ``carve`` scores on validation images: it needs no sample pictures, and a class
    they lack scores 0 for every configuration alike, so it is not refused."""
    from dflbench.datasets.split import validation_split
    from dflbench.engine import TrainData
    from dflbench.preprocess import preprocessor_for

    names, fit_idx, val_idx = ds.class_names, train_idx, None
    es = suite.train.early_stopping
    if es is not None:
        fit, val = validation_split(ds.y[train_idx], es.validation, suite.split_seed)
        fit_idx, val_idx = train_idx[fit], train_idx[val]
    X_fit = take(ds.X, fit_idx)
    pre = preprocessor_for(ds.kind).fit(X_fit)
    y_fit, y_test = targets(ds, fit_idx), targets(ds, test_idx)
    fit_counts = tuple(counts(y_fit, names).values())
    if min(fit_counts) == 0:
        empty = [n for n, c in zip(names, fit_counts) if c == 0]
        raise ConfigError(f"class {', '.join(empty)} has no training samples left")
    y_val = None if val_idx is None else targets(ds, val_idx)
    data = TrainData(
        X_train=pre.transform(X_fit), y_train=y_fit.astype(np.int64),
        X_val=None if val_idx is None else pre.transform(take(ds.X, val_idx)),
        y_val=None if y_val is None else y_val.astype(np.int64),
        X_test=pre.transform(take(ds.X, test_idx)), n_classes=len(names),
    )
    split_counts = {"train": counts(targets(ds, train_idx), names), "test": counts(y_test, names)}
    samples = None
    if ds.masks is not None and not carve:
        _check_test_pixels(split_counts["test"])
        if where == (0, 0):
            samples = _samples(ds, test_idx, fit_counts)
    if y_val is not None:
        split_counts["validation"] = counts(y_val, names)
    return Fold(where[0], where[1], data, y_test, fit_counts, int(np.argmin(fit_counts)),
                split_counts, samples=samples)


def _samples(ds: Any, test_idx: np.ndarray, fit_counts: Sequence[int]) -> dict[str, Any]:
    """A few test images holding the most pixels of the rarest classes, with their masks, as a
    result file stores them (:mod:`dflbench.results.pictures`)."""
    from dflbench.results import pictures

    positions = pictures.chosen(ds.masks[test_idx], np.argsort(fit_counts, kind="stable"))
    shown = test_idx[positions]
    return {"positions": positions,
            "images": [pictures.encode(pictures.image_bytes(ds.X[i])) for i in shown],
            "masks": [pictures.encode(pictures.mask_bytes(ds.masks[i])) for i in shown]}


def _fold(ds: Any, spec: Any, suite: Suite, split: tuple[int, int, np.ndarray, np.ndarray]) -> Fold:
    """Imbalance synthesis on one split's training rows (whole images, for segmentation), then
    the fold (and its tuning carve)."""
    from dflbench.datasets.split import validation_split
    from dflbench.imbalance import apply_imbalance, shortfall

    repeat, fold, train_idx, test_idx = split
    if spec is not None:
        before = np.bincount(ds.y[train_idx], minlength=len(ds.class_names))
        train_idx, y_train = apply_imbalance(train_idx, ds.y[train_idx], spec, suite.split_seed)
        missed = shortfall(spec, before, np.bincount(y_train, minlength=len(ds.class_names)))
        if missed is not None and (repeat, fold) == (0, 0):  # once per dataset, not per fold
            warnings.warn(DflbenchWarning(f"dataset '{ds.name}': {missed}"), stacklevel=2)
    main = _trainable(ds, train_idx, test_idx, suite, (repeat, fold))
    if not suite.tuned:
        return main
    assert suite.tuning is not None
    fit, val = validation_split(ds.y[train_idx], suite.tuning.validation, suite.split_seed)
    return replace(main, tune=_trainable(ds, train_idx[fit], train_idx[val], suite,
                                         (repeat, fold), carve=True))


def _check_test_pixels(tested: dict[str, int]) -> None:
    """Refuse a segmentation split whose test images hold no pixel of a class: its IoU and Dice
    would be undefined."""
    for name, n in tested.items():
        if n == 0:
            raise DataError(f"class '{name}' has no pixel in the test images, so its IoU and Dice "
                            "would be undefined; give the dataset more images holding it or "
                            "raise test_size")


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
        samples=first.samples,
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


def _try_plugin_model(model: Any, rows: np.ndarray, n_classes: int, segmentation: bool) -> None:
    """One forward pass of a plugin model on two rows: an exception or logits of the wrong shape
    is one line now, not a failed run after training."""
    import torch

    from dflbench.plugins import raised

    try:
        logits = model(torch.as_tensor(rows)[None])
    except Exception as exc:  # user code
        raise ConfigError(f"forward raised {raised(exc)}") from None
    # A segmentation model gives logits per pixel, class last.
    per_row = (*rows.shape[2:], n_classes) if segmentation else (n_classes,)
    if tuple(logits.shape) != (1, len(rows), *per_row):
        raise ConfigError(f"forward gave logits of shape {tuple(logits.shape[1:])} for "
                          f"{len(rows)} rows; expected {(len(rows), *per_row)}")


def check_model(suite: Suite, task: PreparedTask) -> None:
    """Build the suite's model once for this dataset's shape, so a mismatch fails before training."""
    from dflbench.models import build_model

    data = task.folds[0].data
    try:
        model = build_model(suite.model.name, suite.model.params, n_models=1,
                            input_shape=data.X_train.shape[1:], n_classes=len(task.class_names),
                            seeds=[0])
        if is_spec(suite.model.name):  # user code: one forward pass on two rows, shape checked
            _try_plugin_model(model, data.X_train[:2], len(task.class_names),
                              task.info.kind == "segmentation")
    except (DflbenchError, ValueError, TypeError) as exc:
        raise ConfigError(f"{suite.source}: model '{suite.model.name}' on dataset "
                          f"'{task.entry.name}': {exc}") from None


def prepare(suite: Suite, device: str = "cpu") -> list[PreparedTask]:
    """Every dataset prepared and every loss, sampler and model checked (the model's memory
    against ``device``'s): all input errors surface here."""
    tasks = [prepare_task(entry, suite) for entry in suite.datasets]
    for task in tasks:
        check_task_kind(suite, task)
        check_losses(suite, task)
        check_memory(suite, task, device)
        check_model(suite, task)
    return tasks


def check_task_kind(suite: Suite, task: PreparedTask) -> None:
    """What a dataset's kind rules out: the model of the other task, shifts and flips on tables,
    and, on segmentation masks, samplers (they draw whole rows) and augmentation (it would have
    to move the masks too); segmentation metrics on datasets without masks."""
    from dflbench.metrics import METRICS
    from dflbench.models import task_of

    kind, where = task.info.kind, f"{suite.source}: dataset '{task.entry.name}'"
    segmentation = kind == "segmentation"
    model_task = task_of(suite.model.name)
    if (model_task == "segmentation") != segmentation:
        need = ("a segmentation model (unet, or a plugin model whose class sets task = "
                "'segmentation')" if segmentation else f"a model for {kind} data")
        raise ConfigError(f"{where} is a {kind} dataset but model '{suite.model.name}' is a "
                          f"{model_task} model; use {need}")
    if suite.train.augment.active and kind != "image":
        raise ConfigError(f"{suite.source}: train.augment: dataset '{task.entry.name}' is "
                          f"{kind}; shifts and flips apply to image classification datasets only")
    if segmentation:
        sampled = [lo.label for lo in suite.losses if lo.sampler is not None]
        if sampled:
            raise ConfigError(f"{where}: treatment '{sampled[0]}' has a sampler; samplers "
                              "resample whole rows and do not apply to segmentation masks")
    else:
        named = [*suite.metrics, *([suite.tuning.metric] if suite.tuning else [])]
        only = [m for m in named if METRICS[m].segmentation]
        if only:
            raise ConfigError(f"{where}: metric '{only[0]}' is measured over the pixels of "
                              "segmentation datasets only; this dataset is " + kind)
