"""The imblearn (Zenodo) source, offline: a fake cache in imbalanced-learn's own layout."""

from __future__ import annotations

import numpy as np
import pytest

from dflbench.datasets import SOURCES, imblearn_zenodo
from dflbench.errors import ConfigError, DataError

load = SOURCES.get("imblearn")


def fake_cache(root, name, X, y):
    """imbalanced-learn reads <data_home>/zenodo/x<ID>data.npz with arrays 'data' and 'label'."""
    zenodo = root / "zenodo"
    zenodo.mkdir(parents=True, exist_ok=True)
    ident = imblearn_zenodo.NAMES.index(name) + 1
    np.savez(zenodo / f"x{ident}data.npz", data=X, label=y)
    return zenodo / f"x{ident}data.npz"


def test_names_match_imblearn():
    from imblearn.datasets import _zenodo

    assert list(imblearn_zenodo.NAMES) == list(_zenodo.MAP_NAME_ID_KEYS)


def test_offline_from_populated_cache(tmp_path, valid_dataset):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 7))
    y = np.array([-1] * 36 + [1] * 4)
    path = fake_cache(tmp_path, "ecoli", X, y)
    assert path.name == "x1data.npz"
    ds = load("ecoli", cache_dir=str(tmp_path))
    valid_dataset(ds, source="imblearn", n_classes=2)
    assert ds.class_names == ("negative", "positive")
    assert np.bincount(ds.y).tolist() == [36, 4]
    assert np.allclose(ds.X.to_numpy(), X)
    assert list(ds.X.columns) == [f"x{i}" for i in range(7)]
    assert ds.meta["labels"] == [-1, 1] and ds.meta["file"] == str(path)


def test_dashed_name(tmp_path):
    fake_cache(tmp_path, "abalone_19", np.ones((6, 2)), np.array([-1, -1, -1, -1, 1, 1]))
    ds = load("abalone-19", cache_dir=str(tmp_path))
    assert ds.name == "abalone-19" and ds.meta["imblearn_name"] == "abalone_19"


def test_missing_cache_is_one_line(tmp_path):
    with pytest.raises(DataError) as err:
        load("ecoli", cache_dir=str(tmp_path / "empty"))
    msg = str(err.value)
    assert msg == (
        f"imblearn dataset 'ecoli' is not in cache at {tmp_path}/empty/zenodo/x1data.npz; "
        "pass download: true to fetch it once, or point cache_dir at a populated cache"
    )


def test_download_failure(tmp_path, monkeypatch):
    from urllib.error import URLError

    import imblearn.datasets._zenodo as zenodo

    def offline(url):
        raise URLError("Temporary failure in name resolution")

    monkeypatch.setattr(zenodo, "urlopen", offline)
    with pytest.raises(
        DataError, match=r"could not be downloaded into .*x1data.npz \(Temporary failure"
    ):
        load("ecoli", cache_dir=str(tmp_path), download=True)


def test_unknown_name():
    with pytest.raises(
        ConfigError, match=r"unknown imblearn dataset 'ecolli'; did you mean 'ecoli'\?"
    ):
        load("ecolli")


def test_download_must_be_bool():
    with pytest.raises(ConfigError, match="download must be true or false"):
        load("ecoli", download="yes")
