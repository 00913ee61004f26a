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
    expected |= {"shapes", "segmentation_folder"}  # segmentation (npz too, with mask_key)
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


# --- what every source loads, by kind -----------------------------------------------------------
# Each built-in source with an offline example: params built in a temporary folder. Sources that
# need a download or an optional package are tested in their own files (NOT_LOADED_HERE); a new
# source must join one of the two.


def _npz(tmp_path, **arrays):
    path = tmp_path / "a.npz"
    np.savez(path, **arrays)
    return {"path": str(path)}


def _seg_npz(tmp_path):
    from tests.unit.datasets.image_fixtures import segmentation_masks

    masks = segmentation_masks()
    return {**_npz(tmp_path, x=masks, masks=masks), "mask_key": "masks", "ignore_index": 255}


def _image_folder(tmp_path):
    from tests.unit.datasets.image_fixtures import make_image_folder

    return {"path": str(make_image_folder(tmp_path, ["a", "b"], 2, size=4)), "size": 4}


def _seg_folder(tmp_path):
    from tests.unit.datasets.image_fixtures import make_segmentation_folder

    return {"path": str(make_segmentation_folder(tmp_path))}


def _idx(tmp_path):
    from tests.unit.datasets.image_fixtures import label_images, write_idx

    write_idx(tmp_path, label_images([0, 1, 1]), np.array([0, 1, 1]))
    return {"path": str(tmp_path), "split": "train"}


def _csv(tmp_path):
    (tmp_path / "d.csv").write_text("a,y\n1,x\n2,z\n3,x\n")
    return {"path": str(tmp_path / "d.csv"), "target": "y"}


EXAMPLES = {
    "sklearn": ("iris", lambda tmp_path: {}),
    "synthetic": ("s", lambda tmp_path: {"n_samples": 50}),
    "csv": ("c", _csv),
    "digits": ("d", lambda tmp_path: {}),
    "idx": ("i", _idx),
    "image_folder": ("f", _image_folder),
    "npz": ("n", lambda tmp_path: _npz(tmp_path, x=np.zeros((3, 2, 2)), y=np.array([0, 1, 1]))),
    "npz masks": ("m", _seg_npz),
    "shapes": ("s", lambda tmp_path: {"n_images": 20}),
    "segmentation_folder": ("g", _seg_folder),
}
NOT_LOADED_HERE = {"keel", "openml", "imblearn", "parquet"}
KINDS = ("tabular", "image", "segmentation")


def test_every_builtin_source_has_an_example_or_its_own_tests():
    builtin = {n for n in SOURCES.names()
               if SOURCES.get(n).__module__.startswith("dflbench.datasets.")}
    covered = {key.split()[0] for key in EXAMPLES} | NOT_LOADED_HERE
    assert builtin <= covered, f"add an example for {sorted(builtin - covered)}"


def check_kind(ds: Dataset) -> None:
    """The contract of each kind: tables, images, and segmentation masks with their strata."""
    from dflbench.datasets import IGNORE
    from dflbench.datasets._segmentation import strata

    assert ds.kind in KINDS
    assert ds.y.dtype == np.int64 and ds.y.ndim == 1 and len(ds.y) == len(ds.X)
    assert len(set(ds.class_names)) == ds.n_classes >= 2
    assert ds.description and "\n" not in ds.description
    if ds.kind == "tabular":
        assert isinstance(ds.X, pd.DataFrame) and ds.masks is None
        return
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == np.float32 and ds.X.ndim == 4
    assert np.all(np.isfinite(ds.X)) and ds.meta["image_shape"] == list(ds.X.shape[1:])
    if ds.kind == "image":
        assert ds.masks is None
        return
    n, _, h, w = ds.X.shape
    assert ds.masks.dtype == np.int64 and ds.masks.shape == (n, h, w)
    assert ds.masks.min() >= IGNORE and ds.masks.max() < ds.n_classes
    counts = np.bincount(ds.masks[ds.masks != IGNORE], minlength=ds.n_classes)
    assert np.all(counts > 0), "every class has a pixel"
    assert np.all((ds.masks != IGNORE).reshape(n, -1).any(axis=1)), "every image a labelled pixel"
    np.testing.assert_array_equal(ds.y, strata(ds.masks, ds.n_classes))
    assert "ignore_index" in ds.meta
    assert ds.meta["pixel_counts"] == dict(zip(ds.class_names, counts.tolist()))


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_source_keeps_the_contract_of_its_kind(example, tmp_path):
    name, params = EXAMPLES[example]
    source = example.split()[0]
    ds = load_dataset(source, name, params(tmp_path))
    assert ds.source == source and ds.name == name
    check_kind(ds)
    if example in ("npz masks", "shapes", "segmentation_folder"):
        assert ds.kind == "segmentation"
