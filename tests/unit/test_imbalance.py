from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from dflbench.datasets.split import stratified_split
from dflbench.errors import ConfigError, DataError
from dflbench.imbalance import (
    ImbalanceSpec,
    apply_imbalance,
    check_imbalance,
    imbalance_ratio,
    parse_imbalance,
    shortfall,
)

NAMES5 = ("a", "b", "c", "d", "e")


def data(counts, *, frame=True):
    y = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(y))
    y = y[perm]
    X = pd.DataFrame({"row": np.arange(len(y)), "v": rng.normal(size=len(y))})
    return (X if frame else X.to_numpy()), y


# ---- targets -------------------------------------------------------------------------------


def test_exponential_exact_counts():
    spec = parse_imbalance({"profile": "exponential", "ratio": 100}, NAMES5)
    # n_i = floor(1000 * 100 ** (-i / 4)) = 1000, 316, 100, 31, 10
    assert spec.targets([1000] * 5).tolist() == [1000, 316, 100, 31, 10]


def test_exponential_uses_largest_class_and_caps():
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ("a", "b", "c"))
    # n_max = 500 (class 2); targets 500, 158, 50, each capped at what the class has
    assert spec.targets([200, 500, 500]).tolist() == [200, 158, 50]


def test_exponential_exact_power_not_floored_below():
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ("a", "b"))
    assert spec.targets([100, 100]).tolist() == [100, 10]  # 100 * 10**-1 is 10, not 9


def test_min_count_floor():
    spec = parse_imbalance({"profile": "exponential", "ratio": 1000}, ("a", "b", "c"))
    assert spec.targets([100, 100, 100]).tolist() == [100, 3, 2]
    spec = parse_imbalance(
        {"profile": "exponential", "ratio": 1000, "min_count": 5}, ("a", "b", "c")
    )
    assert spec.targets([100, 100, 100]).tolist() == [100, 5, 5]
    # ...but never more than the class has
    assert spec.targets([100, 100, 1]).tolist() == [100, 5, 1]


def test_step_profile():
    spec = parse_imbalance({"profile": "step", "ratio": 10}, NAMES5)
    assert spec.mu == 0.5
    # ceil(0.5 * 5) = 3 minority classes, the last three in label order, at 1000 / 10
    assert spec.targets([1000, 900, 800, 700, 600]).tolist() == [1000, 900, 100, 100, 100]
    spec = parse_imbalance({"profile": "step", "ratio": 4, "mu": 0.2}, NAMES5)
    assert spec.targets([1000] * 5).tolist() == [1000, 1000, 1000, 1000, 250]


def test_counts_by_name_and_index():
    spec = parse_imbalance({"counts": {"b": 5, 2: 7}}, ("a", "b", "c"))
    assert spec.counts == ((1, 5), (2, 7))
    assert spec.targets([50, 40, 30]).tolist() == [50, 5, 7]


def test_counts_name_wins_over_index():
    spec = parse_imbalance({"counts": {1: 4}}, ("1", "2", "3"))
    assert spec.counts == ((0, 4),)
    # a key that is not a name falls back to the index; two keys for one class are refused
    with pytest.raises(ConfigError, match="class '1' twice"):
        parse_imbalance({"counts": {1: 4, 0: 3}}, ("1", "2", "3"))
    assert parse_imbalance({"counts": {"0": 4}}, ("x", "y")).counts == ((0, 4),)


def test_counts_above_available_names_class():
    spec = parse_imbalance({"counts": {"b": 50}}, ("a", "b"))
    with pytest.raises(
        DataError, match="class 'b' asks for 50 training samples but only 40 are available"
    ):
        spec.targets([100, 40])


# ---- apply ---------------------------------------------------------------------------------


def test_apply_exact_counts_and_rows_follow_labels():
    X, y = data([400, 300, 200])
    spec = parse_imbalance({"profile": "exponential", "ratio": 20}, ("a", "b", "c"))
    Xi, yi = apply_imbalance(X, y, spec, seed=0)
    assert np.bincount(yi).tolist() == [400, 89, 20]
    assert isinstance(Xi, pd.DataFrame) and list(Xi.index) == list(range(len(yi)))
    # every kept row keeps its own label, and original row order is preserved
    assert np.array_equal(y[Xi["row"].to_numpy()], yi)
    assert np.all(np.diff(Xi["row"].to_numpy()) > 0)


def test_apply_deterministic_per_seed():
    X, y = data([300, 300])
    spec = parse_imbalance({"counts": {1: 30}}, ("a", "b"))
    a, _ = apply_imbalance(X, y, spec, seed=1)
    b, _ = apply_imbalance(X, y, spec, seed=1)
    c, _ = apply_imbalance(X, y, spec, seed=2)
    assert a.equals(b)
    assert not a.equals(c)


def test_apply_image_array():
    y = np.repeat([0, 1, 2], [40, 40, 40])
    X = np.arange(len(y) * 64, dtype=np.float32).reshape(len(y), 1, 8, 8)
    spec = parse_imbalance({"profile": "step", "ratio": 8, "mu": 0.3}, ("a", "b", "c"))
    Xi, yi = apply_imbalance(X, y, spec, seed=0)
    assert Xi.shape == (85, 1, 8, 8) and np.bincount(yi).tolist() == [40, 40, 5]
    rows = (Xi[:, 0, 0, 0] // 64).astype(int)
    assert np.array_equal(y[rows], yi)


def test_train_only_test_split_untouched():
    X, y = data([500, 300, 200])
    train, test = stratified_split(y, 0.3, seed=0)
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ("a", "b", "c"))
    Xtr, ytr = apply_imbalance(X.iloc[train], y[train], spec, seed=0)
    assert np.bincount(ytr).tolist() == [350, 110, 35]
    assert np.bincount(y[test]).tolist() == [150, 90, 60]
    assert set(Xtr["row"]).isdisjoint(set(X["row"].iloc[test]))


def test_apply_no_change_when_targets_reached():
    X, y = data([10, 10])
    spec = parse_imbalance({"profile": "exponential", "ratio": 1}, ("a", "b"))
    Xi, yi = apply_imbalance(X, y, spec, seed=0)
    assert Xi.equals(X.reset_index(drop=True)) and np.array_equal(yi, y)


def test_apply_class_absent_from_train():
    X, y = data([50, 0, 30])
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ("a", "b", "c"))
    _, yi = apply_imbalance(X, y, spec, seed=0)
    assert np.bincount(yi, minlength=3).tolist() == [50, 0, 5]


def test_apply_shape_mismatch():
    spec = parse_imbalance({"counts": {0: 1}}, ("a", "b"))
    with pytest.raises(ValueError, match="rows"):
        apply_imbalance(np.zeros((3, 2)), np.array([0, 1]), spec, seed=0)


# ---- parse errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"profile": "exponental", "ratio": 10},
            "unknown imbalance profile 'exponental'; did you mean 'exponential'",
        ),
        ({"profile": "step", "ration": 10}, "unknown imbalance key 'ration'; did you mean 'ratio'"),
        ({"ratio": 10}, "needs a profile"),
        ({"profile": "exponential"}, "needs a ratio"),
        ({"profile": "exponential", "ratio": 0.5}, r"imbalance ratio: 0.5 is invalid \(expected a number >= 1\)"),
        ({"profile": "exponential", "ratio": "10"}, r"imbalance ratio: '10' is invalid \(expected a number >= 1\)"),
        ({"profile": "exponential", "ratio": math.inf}, r"imbalance ratio: inf is invalid"),
        (
            {"profile": "exponential", "ratio": 10, "mu": 0.5},
            "'mu' does not apply to profile exponential",
        ),
        ({"profile": "step", "ratio": 10, "mu": 0}, r"imbalance mu: 0 is invalid \(expected a number in \(0, 1\]\)"),
        ({"profile": "step", "ratio": 10, "mu": 1.5}, r"imbalance mu: 1.5 is invalid"),
        ({"profile": "step", "ratio": 10, "min_count": 0},
         r"imbalance min_count: 0 is invalid \(expected an integer >= 1\)"),
        ({"profile": "step", "ratio": 10, "min_count": 2.5}, r"imbalance min_count: 2.5 is invalid"),
        ({"counts": {"a": 5}, "ratio": 3}, "'ratio' does not apply to a profile"),
        ({"counts": {"a": 5}, "profile": "step"}, "counts replaces a profile"),
        ({"counts": {"z": 5}}, "unknown class 'z'"),
        ({"counts": {7: 5}}, "unknown class '7'"),
        ({"counts": {"a": 0}}, r"count for class 'a': 0 is invalid \(expected an integer >= 1\)"),
        ({"counts": {"a": True}}, r"count for class 'a': True is invalid"),
        ({"counts": {}}, "counts must map class to a count"),
        ({"counts": [5, 6]}, "counts must map class to a count"),
    ],
)
def test_parse_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_imbalance(spec, ("a", "b", "c"))


def test_parse_needs_mapping():
    with pytest.raises(ConfigError, match="imbalance must be a mapping"):
        parse_imbalance("exponential", ("a", "b"))


def test_spec_is_frozen_and_round_trips():
    spec = parse_imbalance({"profile": "step", "ratio": 10}, ("a", "b"))
    assert isinstance(spec, ImbalanceSpec)
    with pytest.raises(AttributeError):
        spec.ratio = 3  # type: ignore[misc]
    assert parse_imbalance(spec.as_dict(), ("a", "b")) == spec
    counts = parse_imbalance({"counts": {1: 4}}, ("a", "b"))
    assert counts.as_dict() == {"counts": {"b": 4}}
    assert parse_imbalance(counts.as_dict(), ("a", "b")) == counts


def test_imbalance_ratio():
    assert imbalance_ratio([100, 10, 50]) == 10.0
    assert imbalance_ratio({"a": 30, "b": 3}) == 10.0
    assert imbalance_ratio(np.array([5, 0])) == math.inf
    with pytest.raises(ValueError):
        imbalance_ratio([])


def test_a_profile_that_flips_a_binary_dataset_says_so_with_counts_that_work():
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ["a", "b"])
    before = np.array([70, 210])
    after = spec.targets(before)
    assert after.tolist() == [70, 21]
    assert shortfall(spec, before, after) == (
        "imbalance exponential ratio 10 gives a training ratio of 3.3 (a 70, b 21): 'b', the majority, "
        "became the minority; for ratio 10 give imbalance: {counts: {a: 21}}")
    fixed = parse_imbalance({"counts": {"a": 21}}, ["a", "b"]).targets(before)
    assert imbalance_ratio(fixed) == 10 and shortfall(spec, before, fixed) is None


def test_a_ratio_within_the_tolerance_or_a_counts_spec_says_nothing():
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ["0", "1", "2"])
    assert shortfall(spec, [41, 50, 34], spec.targets([41, 50, 34])) is None  # 8.2: within 25%
    far = shortfall(spec, [12, 50, 34], spec.targets([12, 50, 34]))  # class 0 caps the ratio at 3
    assert far is not None and far.startswith("imbalance exponential ratio 10 gives a training ratio of 3.0 "
                                              "(0 12, 1 15, 2 5)")
    assert "give counts per class to set them exactly" in far
    counts = parse_imbalance({"counts": {"0": 2}}, ["0", "1", "2"])
    assert shortfall(counts, [41, 50, 34], counts.targets([41, 50, 34])) is None


@pytest.mark.parametrize(("spec", "message"), [
    ({"profile": "exponental", "ratio": 5}, "unknown imbalance profile 'exponental'"),
    ({"profile": "step", "ratio": 0.5}, "imbalance ratio: 0.5 is invalid (expected a number >= 1)"),
    ({"counts": {"x": 0}}, "imbalance count for class 'x': 0 is invalid"),
    ({"counts": []}, "imbalance counts must map class to a count"),
    ([1, 2], "imbalance must be a mapping"),
])
def test_what_needs_no_class_names_is_checked_when_the_suite_is_read(spec, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_imbalance(spec)
