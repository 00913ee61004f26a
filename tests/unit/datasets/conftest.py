"""Shared checks for dataset loader tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dflbench.datasets import Dataset


def check_dataset(ds: Dataset, *, source: str, n_classes: int | None = None) -> None:
    """The contract every loader keeps (see dflbench.datasets.Dataset)."""
    assert isinstance(ds, Dataset)
    assert ds.source == source
    assert isinstance(ds.X, pd.DataFrame)
    assert all(isinstance(c, str) for c in ds.X.columns)
    assert ds.X.columns.is_unique
    assert list(ds.X.index) == list(range(len(ds.X)))
    assert ds.y.dtype == np.int64 and ds.y.ndim == 1 and len(ds.y) == len(ds.X)
    assert set(np.unique(ds.y)) == set(range(ds.n_classes)), "every class 0..C-1 is present"
    assert all(isinstance(n, str) for n in ds.class_names)
    assert len(set(ds.class_names)) == ds.n_classes
    assert ds.description and "\n" not in ds.description
    if n_classes is not None:
        assert ds.n_classes == n_classes


@pytest.fixture
def valid_dataset():
    return check_dataset
