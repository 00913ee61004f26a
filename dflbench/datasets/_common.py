"""Helpers shared by the dataset loaders (not a source: the leading underscore keeps it out of
auto-discovery)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dflbench.datasets import Dataset
from dflbench.errors import DataError


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the plain Python value (so ``meta`` stays JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


def encode_labels(values: pd.Series | np.ndarray, *, what: str) -> tuple[np.ndarray, list[Any]]:
    """Map class labels to int64 codes 0..C-1 in sorted order of the original labels.

    Returns ``(y, labels)`` where ``labels[i]`` is the original value of class ``i``. Floats that
    are whole numbers (a label column read as float because of a gap) become ints, so class 1.0
    is named "1"; other floats look like a regression target and raise DataError, as does a
    target with fewer than two classes. ``what`` names the target in messages ("target 'y' in
    data.csv"). Missing labels must have been removed by the caller.
    """
    series = pd.Series(values)
    if pd.api.types.is_bool_dtype(series):
        arr = series.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(series):
        arr = series.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{what} holds non-finite numbers")
        if not np.all(arr == np.round(arr)):
            example = arr[arr != np.round(arr)][0]
            raise DataError(
                f"{what} holds non-integer numbers (e.g. {example:g}); "
                "dflbench needs class labels, not a regression target"
            )
        arr = arr.astype(np.int64)
    else:
        # Strings (object, str or category dtype): compare as strings so mixed types still sort.
        arr = series.astype(object).map(str).to_numpy(dtype=object)
    labels, y = np.unique(arr, return_inverse=True)
    if len(labels) < 2:
        found = ", ".join(f"'{v}'" for v in labels) or "none"
        raise DataError(f"{what} has {len(labels)} class ({found}); need at least 2")
    return y.astype(np.int64).reshape(-1), [python_scalar(v) for v in labels]


def class_names_for(labels: Sequence[Any]) -> tuple[str, ...]:
    """Class names as strings, one per label."""
    return tuple(str(v) for v in labels)


def labelled_table(
    name: str,
    X: pd.DataFrame,
    target: pd.Series,
    *,
    what: str,
    source: str,
    description: str,
    meta: dict[str, Any],
) -> Dataset:
    """A tabular Dataset with ``target`` encoded as labels, their values in ``meta['labels']``."""
    y, labels = encode_labels(target, what=what)
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=class_names_for(labels),
        source=source,
        description=description,
        meta={"labels": labels, **meta},
    )


def sklearn_data_home(cache_dir: str | None) -> str:
    """Where scikit-learn caches data, computed without creating it (mirrors get_data_home)."""
    if cache_dir is not None:
        return os.path.expanduser(str(cache_dir))
    return os.path.expanduser(
        os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    )


def frame(data: Any, columns: Sequence[str] | None = None, *, prefix: str = "x") -> pd.DataFrame:
    """A DataFrame with string column names (``x0, x1, ...`` when no names are given)."""
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D feature table, got shape {arr.shape}")
    if columns is None:
        columns = [f"{prefix}{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=[str(c) for c in columns])


def normalize_name(name: str) -> str:
    """Dataset names compared case-insensitively with ``-`` and ``_`` interchangeable."""
    return str(name).strip().lower().replace("-", "_")
