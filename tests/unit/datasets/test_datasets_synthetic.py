from __future__ import annotations

import numpy as np
import pytest

from dflbench.datasets import SOURCES
from dflbench.errors import ConfigError

load = SOURCES.get("synthetic")


def test_defaults(valid_dataset):
    ds = load("syn")
    valid_dataset(ds, source="synthetic", n_classes=3)
    assert ds.X.shape == (2000, 20)
    assert ds.class_names == ("0", "1", "2")
    assert ds.meta["params"]["n_informative"] == 10


def test_deterministic_per_random_state():
    a, b, c = (
        load("a", n_samples=200),
        load("b", n_samples=200),
        load("c", n_samples=200, random_state=1),
    )
    assert a.X.equals(b.X) and np.array_equal(a.y, b.y)
    assert not a.X.equals(c.X)


def test_weights_make_imbalance():
    ds = load("s", n_samples=1000, weights=[0.8, 0.15])  # n_classes - 1 weights: last gets 0.05
    counts = np.bincount(ds.y)
    # make_classification floors n * weight per class and gives the rest to the first classes
    assert np.abs(counts - [800, 150, 50]).max() <= 1 and counts.sum() == 1000


def test_binary_with_full_weights():
    ds = load("s", n_samples=500, n_classes=2, weights=[0.9, 0.1], n_features=5, n_informative=3)
    assert np.bincount(ds.y).tolist() == [450, 50]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_informative": 15, "n_redundant": 6}, r"n_informative \(15\) \+ n_redundant \(6\)"),
        (
            {"n_informative": 2, "n_classes": 3, "n_clusters_per_class": 2},
            r"2\*\*n_informative \(4\)",
        ),
        ({"weights": [0.5]}, "weights has 1 values; give n_classes"),
        ({"weights": [0.6, 0.5]}, "sum to less than 1"),
        ({"weights": [0.6, 0.3, 0.3]}, "sum to at most 1"),
        ({"weights": [0.6, 0.0, 0.4]}, "must be > 0"),
        ({"weights": "0.5,0.5"}, "list of numbers"),
        ({"n_classes": 1}, "n_classes must be at least 2"),
        ({"n_samples": 2.5}, "n_samples must be an integer"),
        ({"n_samples": True}, "n_samples must be an integer"),
        ({"flip_y": 1.5}, r"flip_y must be in \[0, 1\]"),
        ({"class_sep": float("nan")}, "class_sep must be at least 0"),
        ({"n_samples": 10, "weights": [0.95, 0.04]}, r"class \d got no samples"),
    ],
)
def test_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        load("s", **params)
