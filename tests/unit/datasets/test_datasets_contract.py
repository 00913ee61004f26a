"""Contract over the SOURCES registry: every source, present and future, is shaped alike."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from dflbench.datasets import SOURCES, Dataset, load_dataset
from dflbench.errors import ConfigError


@pytest.mark.parametrize("source", SOURCES.names())
def test_loader_signature(source):
    params = list(inspect.signature(SOURCES.get(source)).parameters.values())
    assert params[0].name == "name", "loaders take the dataset name first"
    assert all(p.kind is p.KEYWORD_ONLY for p in params[1:]), "source options are keyword-only"
    assert inspect.getdoc(SOURCES.get(source)), "a loader's docstring is its user documentation"


def test_expected_sources_registered():
    expected = {"sklearn", "synthetic", "keel", "csv", "openml", "imblearn"}
    expected |= {"digits", "image_folder", "idx", "npz"}  # image sources (npz also tabular)
    assert expected <= set(SOURCES.names())


def test_unknown_param_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"has no parameter 'n_sample'; did you mean 'n_samples'"):
        load_dataset("synthetic", "s", {"n_sample": 10})


def test_name_twice_is_refused():
    with pytest.raises(ConfigError, match="name once"):
        load_dataset("sklearn", "iris", {"name": "wine"})


def test_unknown_source():
    with pytest.raises(ConfigError, match="did you mean 'sklearn'"):
        load_dataset("sklern", "iris")


def test_dataset_rejects_broken_contract():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="rows"):
        Dataset("d", X, np.array([0, 1]), ("a", "b"), "test")
    with pytest.raises(ValueError, match="labels must lie"):
        Dataset("d", X, np.array([0, 1, 2]), ("a", "b"), "test")
    with pytest.raises(ValueError, match="integer"):
        Dataset("d", X, np.array([0.0, 1.0, 0.0]), ("a", "b"), "test")
    ds = Dataset("d", X, np.array([0, 1, 1], dtype=np.int32), ("a", "b"), "test")
    assert ds.y.dtype == np.int64
    assert ds.class_counts().tolist() == [1, 2]
