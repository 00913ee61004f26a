from __future__ import annotations

import numpy as np
import pytest

from dflbench.datasets.split import stratified_split, validation_split
from dflbench.errors import ConfigError, DataError

Y = np.repeat([0, 1, 2], [100, 30, 10])


def test_stratified_proportions_and_partition():
    train, test = stratified_split(Y, 0.3, seed=0)
    assert np.bincount(Y[test]).tolist() == [30, 9, 3]
    assert np.bincount(Y[train]).tolist() == [70, 21, 7]
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(Y)))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)  # sorted: row order kept
    assert train.dtype == np.int64


def test_stratified_deterministic_per_seed():
    a, b, c = stratified_split(Y, 0.3, 7), stratified_split(Y, 0.3, 7), stratified_split(Y, 0.3, 8)
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_stratified_class_too_small_named():
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(
        DataError, match="class 2 has 1 sample; a stratified split needs at least 2"
    ):
        stratified_split(y, 0.3, 0)
    with pytest.raises(DataError, match="class 'c' has 1 sample"):
        stratified_split(y, 0.3, 0, class_names=("a", "b", "c"))


def test_stratified_class_without_samples_named():
    with pytest.raises(DataError, match="class 'c' has 0 samples"):
        stratified_split(np.array([0, 0, 1, 1]), 0.5, 0, class_names=("a", "b", "c"))


def test_stratified_test_too_small():
    with pytest.raises(DataError, match="cannot split 6 samples with test_size=0.2"):
        stratified_split(np.array([0, 0, 1, 1, 2, 2]), 0.2, 0)


@pytest.mark.parametrize("size", [0, 1, 1.5, -0.1, "0.3", True])
def test_bad_test_size(size):
    with pytest.raises(ConfigError, match="test_size must be"):
        stratified_split(Y, size, 0)


def test_validation_split_stratified_and_deterministic():
    fit, val = validation_split(Y, 0.2, seed=3)
    assert np.bincount(Y[val]).tolist() == [20, 6, 2]
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(len(Y)))
    again = validation_split(Y, 0.2, seed=3)
    assert np.array_equal(val, again[1])
    assert not np.array_equal(val, validation_split(Y, 0.2, seed=4)[1])


def test_validation_singleton_class_stays_in_train():
    y = np.array([0] * 20 + [1] * 10 + [2])
    fit, val = validation_split(y, 0.2, seed=0)
    assert 30 in fit and 30 not in val
    assert set(y[val]) == {0, 1}
    assert len(fit) + len(val) == len(y)


def test_validation_nothing_splittable():
    fit, val = validation_split(np.array([0, 1, 2]), 0.5, seed=0)
    assert fit.tolist() == [0, 1, 2] and val.size == 0


def test_validation_tiny_fraction_still_has_rows():
    _, val = validation_split(np.repeat([0, 1], [10, 10]), 0.01, seed=0)
    assert len(val) == 2 and set(np.repeat([0, 1], [10, 10])[val]) == {0, 1}


def test_validation_fraction_checked():
    with pytest.raises(ConfigError, match="validation fraction"):
        validation_split(Y, 1.0, 0)
