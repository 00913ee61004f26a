"""The openml source, offline: fetch_openml is replaced by a stand-in."""

from __future__ import annotations

import socket
from urllib.error import URLError

import numpy as np
import pandas as pd
import pytest
import sklearn.datasets
from sklearn.utils import Bunch

from dflbench.datasets import SOURCES
from dflbench.errors import ConfigError, DataError

load = SOURCES.get("openml")


def fake_bunch():
    data = pd.DataFrame(
        {"width": [1.0, 2.0, 3.0, np.nan, 5.0], "kind": pd.Categorical(["a", "b", "a", "b", "a"])}
    )
    target = pd.Series(
        pd.Categorical(
            ["tested_positive", "tested_negative", None, "tested_negative", "tested_positive"]
        ),
        name="class",
    )
    frame = data.assign(**{"class": target})
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        target_names=["class"],
        details={"name": "diabetes-ish", "id": "37", "version": "1"},
    )


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake(**kwargs):
        seen.append(kwargs)
        return fake_bunch()

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake)
    return seen


def test_loads_from_stand_in(calls, tmp_path, valid_dataset):
    ds = load("diabetes", data_id=37, cache_dir=str(tmp_path))
    valid_dataset(ds, source="openml", n_classes=2)
    assert calls == [
        {
            "name": None,
            "version": "active",
            "data_id": 37,
            "data_home": str(tmp_path),
            "target_column": "default-target",
            "as_frame": True,
        }
    ]
    assert ds.class_names == ("tested_negative", "tested_positive")
    assert ds.y.tolist() == [1, 0, 0, 1]  # the unlabelled row is dropped
    assert ds.meta["dropped_missing_target"] == 1
    assert list(ds.X.columns) == ["width", "kind"] and ds.X["width"].isna().sum() == 1
    assert ds.description == "OpenML diabetes-ish (id 37, version 1), via scikit-learn fetch_openml"
    assert ds.meta["data_id"] == 37


def test_lookup_by_name_with_target(calls):
    load("diabetes", version=1, target="class")
    assert calls[0]["name"] == "diabetes" and calls[0]["data_id"] is None
    assert calls[0]["version"] == 1 and calls[0]["target_column"] == "class"
    assert calls[0]["data_home"] is None  # sklearn's own data home


def test_frame_only_bunch(monkeypatch):
    full = fake_bunch()
    monkeypatch.setattr(
        sklearn.datasets,
        "fetch_openml",
        lambda **kw: Bunch(frame=full.frame, target=full.target, target_names=["class"]),
    )
    ds = load("d", data_id=37)
    assert list(ds.X.columns) == ["width", "kind"]


@pytest.mark.parametrize(
    "error",
    [
        URLError(socket.gaierror(-3, "Temporary failure in name resolution")),
        OSError("Network is unreachable"),
    ],
)
def test_offline_without_cache(monkeypatch, tmp_path, error):
    def offline(**kwargs):
        raise error

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(DataError) as err:
        load("diabetes", data_id=37, cache_dir=str(tmp_path), download=True)
    msg = str(err.value)
    assert msg.startswith(f"OpenML dataset 37 is not in cache at {tmp_path}/openml")
    assert msg.endswith("run again with network access, or point cache_dir at a cache that holds it")
    assert "\n" not in msg


def test_nothing_is_downloaded_unless_asked(tmp_path, recwarn):
    """The real fetch_openml on an empty cache: refused at once (no retries, no warnings), saying
    where the cache was looked for; scikit-learn's downloader is itself again afterwards."""
    import sklearn.datasets._openml as openml_module

    urlopen = openml_module.urlopen
    with pytest.raises(DataError) as err:
        load("credit-g", data_id=31, cache_dir=str(tmp_path))
    assert str(err.value) == (
        f"OpenML dataset 31 is not in the OpenML cache at {tmp_path}/openml (downloads are off): "
        "add download: true to fetch it once, or copy an OpenML cache folder holding it there")
    assert not recwarn.list
    assert openml_module.urlopen is urlopen


def test_default_cache_location_in_message(monkeypatch, tmp_path):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "skl"))
    monkeypatch.setattr(
        sklearn.datasets, "fetch_openml", lambda **kw: (_ for _ in ()).throw(URLError("down"))
    )
    with pytest.raises(
        DataError, match=f"OpenML dataset 'diabetes' is not in cache at {tmp_path}/skl/openml"
    ):
        load("diabetes")


def test_openml_errors_become_data_errors(monkeypatch):
    def missing(**kwargs):
        raise ValueError("No active dataset nosuch found.")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", missing)
    with pytest.raises(DataError, match="OpenML dataset 'nosuch': No active dataset nosuch found."):
        load("nosuch")


def test_no_default_target(monkeypatch):
    full = fake_bunch()
    monkeypatch.setattr(
        sklearn.datasets, "fetch_openml", lambda **kw: Bunch(data=full.data, target=None)
    )
    with pytest.raises(DataError, match="OpenML dataset 5 has no default target; set target"):
        load("x", data_id=5)


def test_multi_target(monkeypatch):
    full = fake_bunch()
    two = pd.DataFrame({"a": [0, 1, 0, 1, 0], "b": [1, 1, 0, 0, 1]})
    monkeypatch.setattr(
        sklearn.datasets, "fetch_openml", lambda **kw: Bunch(data=full.data, target=two)
    )
    with pytest.raises(DataError, match="has 2 target columns"):
        load("x", data_id=5)


def test_regression_target_refused(monkeypatch):
    full = fake_bunch()
    y = pd.Series([0.1, 0.7, 2.5, 3.3, 1.2], name="price")
    monkeypatch.setattr(
        sklearn.datasets, "fetch_openml", lambda **kw: Bunch(data=full.data, target=y)
    )
    with pytest.raises(DataError, match="non-integer numbers"):
        load("x", data_id=5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"data_id": 0}, "data_id must be a positive integer"),
        ({"data_id": "61"}, "data_id must be a positive integer"),
        ({"data_id": 61, "version": 2}, "version applies to a lookup by name"),
    ],
)
def test_bad_params(calls, params, message):
    with pytest.raises(ConfigError, match=message):
        load("x", **params)
    assert calls == []
