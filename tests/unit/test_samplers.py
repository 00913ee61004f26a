"""Resampling treatments: registry, train-only application, clear failures."""

from __future__ import annotations

import numpy as np
import pytest

from dflbench.errors import ConfigError, DataError
from dflbench.samplers import NEIGHBOURS, SAMPLERS, check_counts, resample


@pytest.fixture
def skewed():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [80, 15, 8])
    X = (rng.normal(size=(len(y), 4)) + y[:, None]).astype(np.float32)
    return X, y


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_every_sampler_rebalances_deterministically(name, skewed):
    X, y = skewed
    X1, y1 = resample(name, {}, X, y, seed=0)
    X2, y2 = resample(name, {}, X, y, seed=0)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert X1.dtype == np.float32 and y1.dtype == np.int64 and X1.shape[1:] == X.shape[1:]
    before, after = np.bincount(y), np.bincount(y1, minlength=3)
    assert after.max() / after.min() < before.max() / before.min()


def test_oversampling_keeps_original_rows_and_seed_changes_result(skewed):
    X, y = skewed
    X1, y1 = resample("smote", {}, X, y, seed=0)
    assert np.bincount(y1).tolist() == [80, 80, 80]
    assert {tuple(r) for r in X} <= {tuple(r) for r in X1}
    X2, _ = resample("smote", {}, X, y, seed=1)
    assert not np.array_equal(X1, X2)


def test_images_are_flattened_and_restored():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], [30, 6])
    X = rng.random((36, 1, 4, 4)).astype(np.float32)
    X1, y1 = resample("random_over", {}, X, y, seed=0)
    assert X1.shape == (60, 1, 4, 4) and np.bincount(y1).tolist() == [30, 30]


def test_sampler_that_cannot_apply_says_why(skewed):
    X, y = skewed
    with pytest.raises(DataError, match=r"sampler 'smote' cannot apply \(training class counts \[80, 15, 8\]\)"):
        resample("smote", {"k_neighbors": 10}, X, y, seed=0)


def test_unknown_sampler_and_parameter():
    with pytest.raises(ConfigError, match="unknown sampler 'smot'; did you mean 'smote'"):
        SAMPLERS.get("smot")
    with pytest.raises(ConfigError, match="sampler 'smote' has no parameter 'k'"):
        SAMPLERS.check_params("smote", {"k": 3}, reserved=("random_state",))


@pytest.mark.parametrize(("name", "param"), [(n, p) for n, ps in NEIGHBOURS.items() for p, s in ps.items()
                                             if s == "class"])
def test_the_neighbour_check_before_training_agrees_with_imbalanced_learn(name, param, skewed):
    """check_counts refuses exactly what imbalanced-learn would fail on while training: a class it
    oversamples with no more rows than the neighbour count."""
    X, y = skewed  # classes of 80, 15 and 8 rows
    counts, names = np.bincount(y).tolist(), ("a", "b", "c")
    check_counts(name, {param: 7}, counts, names)
    resample(name, {param: 7}, X, y, seed=0)
    with pytest.raises(ConfigError, match=f"{param}=8 needs more than 8 training samples in each class it "
                                          r"oversamples; class 'c' has 8 \(set " + param + " <= 7\\)"):
        check_counts(name, {param: 8}, counts, names)
    with pytest.raises(DataError, match="cannot apply"):
        resample(name, {param: 8}, X, y, seed=0)


def test_a_sampling_strategy_the_counts_cannot_take_is_refused_before_training():
    with pytest.raises(ConfigError, match="sampler 'random_over': sampling_strategy: "):
        check_counts("random_over", {"sampling_strategy": {"b": 10}}, [80, 15], ("a", "b"))
    with pytest.raises(ConfigError, match="class 'b' has 3"):
        check_counts("smote", {"sampling_strategy": "minority"}, [80, 3, 20], ("a", "b", "c"))
    check_counts("smote", {"sampling_strategy": {2: 40}}, [80, 3, 20], ("a", "b", "c"))  # 'b' untouched
