"""Stratified splits: train/test (a holdout split, or repeated k-fold cross-validation) for every
task, and a validation carve-out of a training split for early stopping and tuning. All return
sorted positional index arrays, so taking rows keeps the original row order and the same
(y, size, seed) always gives the same split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from dflbench.errors import ConfigError, DataError
from dflbench.params import short


def _fraction(key: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{key} must be a number between 0 and 1, got {short(value)}")
    if not 0.0 < float(value) < 1.0:
        raise ConfigError(f"{key} must be between 0 and 1 (exclusive), got {value}")
    return float(value)


def _labels(y: np.ndarray | Sequence[int]) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise ValueError("y must be a 1-D array of integer labels 0..C-1")
    return arr


def _name(c: int, class_names: Sequence[str] | None) -> str:
    return f"'{class_names[c]}'" if class_names is not None else str(c)


def stratified_split(
    y: np.ndarray | Sequence[int],
    test_size: float,
    seed: int,
    *,
    class_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions 0..N-1 into (train_idx, test_idx), stratified by ``y``.

    Uses sklearn's ``train_test_split(stratify=y)``. Every class needs at least 2 samples (one
    per side); a class with fewer raises DataError naming it (with ``class_names``, classes
    without any sample count too). A test set too small to hold one sample per class is also a
    DataError.
    """
    test_size = _fraction("test_size", test_size)
    arr = _labels(y)
    if arr.size == 0:
        raise DataError("cannot split a dataset with no samples")
    n_classes = max(len(class_names) if class_names is not None else 0, int(arr.max()) + 1)
    counts = np.bincount(arr, minlength=n_classes)
    small = [c for c in range(n_classes) if counts[c] < 2 and (counts[c] or class_names)]
    if small:
        c = small[0]
        raise DataError(
            f"class {_name(c, class_names)} has {counts[c]} sample"
            f"{'' if counts[c] == 1 else 's'}; a stratified split needs at least 2 per class"
        )
    index = np.arange(arr.size)
    try:
        train, test = train_test_split(
            index, test_size=test_size, stratify=arr, random_state=seed, shuffle=True
        )
    except ValueError as exc:  # e.g. the test set is smaller than the number of classes
        raise DataError(
            f"cannot split {arr.size} samples with test_size={test_size}: {exc}"
        ) from exc
    return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)


def validation_split(
    y: np.ndarray | Sequence[int], fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified validation set out of a training split: (fit_idx, val_idx) positions.

    Classes with a single sample cannot be split, so they keep all their rows in the fitting part
    (never an error: early stopping must not end a run). The rest goes through sklearn's
    stratified ``train_test_split``; its proportional allocation can leave a very small class out
    of the validation set. The validation size is ``round(fraction * n)`` of the splittable rows,
    raised to at least one row per splittable class and capped so the fitting part keeps one too.
    When nothing can be split, the validation set is empty.
    """
    fraction = _fraction("validation fraction", fraction)
    arr = _labels(y)
    counts = np.bincount(arr) if arr.size else np.zeros(0, dtype=np.int64)
    splittable = np.flatnonzero(counts >= 2)
    eligible = np.flatnonzero(np.isin(arr, splittable))
    if eligible.size == 0:
        return np.arange(arr.size, dtype=np.int64), np.zeros(0, dtype=np.int64)
    k = splittable.size
    n_val = min(max(round(fraction * eligible.size), k), eligible.size - k)
    fit, val = train_test_split(
        eligible, test_size=n_val, stratify=arr[eligible], random_state=seed, shuffle=True
    )
    kept = np.flatnonzero(~np.isin(arr, splittable))
    return np.sort(np.concatenate([fit, kept])).astype(np.int64), np.sort(val).astype(np.int64)


def cv_splits(
    y: np.ndarray | Sequence[int],
    folds: int,
    repeats: int,
    seed: int,
    *,
    class_names: Sequence[str] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Repeated stratified k-fold (scikit-learn's ``RepeatedStratifiedKFold``): ``folds`` ×
    ``repeats`` (train_idx, test_idx) pairs, repeat-major; within a repeat the test folds
    partition the samples. A class with fewer samples than ``folds`` is a ConfigError naming it,
    its count and the largest workable number of folds."""
    arr = _labels(y)
    n_classes = max(len(class_names) if class_names is not None else 0, int(arr.max()) + 1)
    counts = np.bincount(arr, minlength=n_classes)
    smallest = int(np.argmin(counts))
    if counts[smallest] < folds:
        largest = int(counts[smallest])
        hint = (f"use folds: {largest} or fewer" if largest >= 2
                else "a class needs at least 2 samples for cross-validation")
        raise ConfigError(f"protocol: class {_name(smallest, class_names)} has {counts[smallest]} "
                          f"sample{'' if counts[smallest] == 1 else 's'}, fewer than the {folds} "
                          f"folds asked; {hint}")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    return [(np.sort(tr).astype(np.int64), np.sort(te).astype(np.int64))
            for tr, te in splitter.split(np.zeros(arr.size), arr)]
