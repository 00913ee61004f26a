"""Segmentation sources: the strata rule and mask checks, ``shapes``, ``segmentation_folder`` and
``npz`` with masks."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from dflbench.datasets import IGNORE, SOURCES, Dataset, load_dataset
from dflbench.datasets._segmentation import segmentation_dataset, strata
from dflbench.datasets.shapes import CLASSES, _segments, generate
from dflbench.errors import ConfigError, DataError
from dflbench.imbalance import parse_imbalance
from tests.unit.datasets.image_fixtures import (
    SEGMENTATION_CLASSES,
    VOID,
    label_rgb,
    label_value,
    make_segmentation_folder,
    segmentation_masks,
)

shapes = SOURCES.get("shapes")
folder = SOURCES.get("segmentation_folder")
npz = SOURCES.get("npz")


def _images(masks: np.ndarray, channels: int = 1) -> np.ndarray:
    n, h, w = masks.shape
    return np.zeros((n, channels, h, w), dtype=np.float32)


def _expected(masks: np.ndarray, ignore: int | None = VOID) -> np.ndarray:
    out = masks.astype(np.int64)
    if ignore is not None:
        out[masks == ignore] = IGNORE
    return out


# --- the strata rule and the shared checks ---------------------------------------------------


def test_stratum_is_the_rarest_class_present():
    masks = np.array([
        [[0, 0], [0, 0]],    # background only -> 0
        [[0, 1], [1, 1]],    # 0 and 1: 1 is rarer dataset-wide -> 1
        [[0, 1], [2, 0]],    # 2 is the rarest -> 2
        [[1, 1], [1, 2]],    # -> 2
        [[-1, -1], [0, 1]],  # ignored pixels do not count -> 1
    ])
    # dataset-wide counts: class 0: 8, class 1: 7, class 2: 2
    assert strata(masks, 3).tolist() == [0, 1, 2, 2, 1]


def test_stratum_ties_go_to_the_later_class():
    masks = np.array([[[0, 1]], [[1, 0]], [[2, 2]]])  # class 0 and 1 both have 2 pixels
    assert strata(masks, 3).tolist() == [1, 1, 2]


def test_stratum_follows_pixel_counts_not_label_order():
    masks = np.array([[[1, 1, 1]], [[1, 0, 1]], [[1, 1, 1]]])  # class 0 is the rare one
    assert strata(masks, 2).tolist() == [1, 0, 1]


def test_segmentation_dataset_maps_the_ignore_index_and_fills_meta():
    masks = np.array([[[0, 1], [9, 0]], [[1, 1], [0, 9]]], dtype=np.uint8)
    ds = segmentation_dataset("d", _images(masks), masks, ["a", "b"], source="t",
                              description="test", meta={"k": 1}, ignore_index=9)
    assert ds.kind == "segmentation" and ds.masks.dtype == np.int64
    assert ds.masks.tolist() == [[[0, 1], [-1, 0]], [[1, 1], [0, -1]]]
    assert ds.y.tolist() == [1, 1]
    assert ds.meta["ignore_index"] == 9 and ds.meta["k"] == 1
    assert ds.meta["pixel_counts"] == {"a": 3, "b": 3} and ds.meta["ignored_pixels"] == 2


@pytest.mark.parametrize(
    ("masks", "ignore", "message"),
    [
        ([[[0, 1]], [[0, 3]]], None, r"holds mask value 3; expected a class 0\.\.2 \(3 classes\); "
                                     r"set ignore_index"),
        ([[[0, -1]], [[1, 2]]], 255, r"holds mask value -1; expected a class 0\.\.2 or the ignore "
                                     r"index 255"),
        ([[[0, 1]], [[255, 255]]], 255, r"image 1 has no labelled pixel"),
        ([[[0, 1]], [[1, 0]]], None, r"class 'c' has no pixel in any mask"),
    ],
)
def test_segmentation_dataset_refuses_bad_masks(masks, ignore, message):
    masks = np.array(masks)
    with pytest.raises(DataError, match=message):
        segmentation_dataset("d", _images(masks), masks, ["a", "b", "c"], source="t",
                             description="t", meta={}, ignore_index=ignore)


def test_segmentation_dataset_refuses_mismatched_shapes():
    masks = np.zeros((2, 3, 3), dtype=np.int64)
    with pytest.raises(DataError, match=r"masks have shape \(2, 3, 3\) but images \(2, 1, 3, 4\)"):
        segmentation_dataset("d", np.zeros((2, 1, 3, 4), np.float32), masks, ["a", "b"],
                             source="t", description="t", meta={}, ignore_index=None)


def test_dataset_checks_masks():
    X = np.zeros((2, 1, 2, 2), dtype=np.float32)
    masks = np.zeros((2, 2, 2), dtype=np.int64)
    y = np.array([0, 1])
    with pytest.raises(ValueError, match="needs masks"):
        Dataset("d", X, y, ("a", "b"), "t", kind="segmentation")
    with pytest.raises(ValueError, match="masks belong to kind 'segmentation', not 'image'"):
        Dataset("d", X, y, ("a", "b"), "t", kind="image", masks=masks)
    with pytest.raises(ValueError, match=r"expected \(2, 2, 2\)"):
        Dataset("d", X, y, ("a", "b"), "t", kind="segmentation", masks=masks[:, :1])
    with pytest.raises(ValueError, match=r"mask values must lie in 0\.\.1 or be -1"):
        Dataset("d", X, y, ("a", "b"), "t", kind="segmentation", masks=masks - 2)
    with pytest.raises(ValueError, match="masks must be integers"):
        Dataset("d", X, y, ("a", "b"), "t", kind="segmentation", masks=masks.astype(float))
    ds = Dataset("d", X, y, ("a", "b"), "t", kind="segmentation", masks=masks.astype(np.uint8))
    assert ds.masks.dtype == np.int64
    assert Dataset("d", X, y, ("a", "b"), "t", kind="image").masks is None


# --- shapes -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenes():
    return shapes("s")


def test_shapes_defaults(scenes):
    assert scenes.kind == "segmentation" and scenes.class_names == CLASSES
    assert scenes.X.shape == (400, 3, 32, 32) and scenes.X.dtype == np.float32
    assert scenes.masks.shape == (400, 32, 32)
    assert 0.0 <= scenes.X.min() and scenes.X.max() <= 1.0
    assert scenes.meta["ignore_index"] is None and not np.any(scenes.masks == IGNORE)
    np.testing.assert_array_equal(scenes.y, strata(scenes.masks, 4))


def test_shapes_pixel_shares_decrease_in_label_order(scenes):
    share = np.bincount(scenes.masks.ravel(), minlength=4) / scenes.masks.size
    assert np.all(np.diff(share) < 0)
    assert 0.8 < share[0] < 0.93 and 0.06 < share[1] < 0.14
    assert 0.008 < share[2] < 0.025 and 0.002 < share[3] < 0.01


def test_shapes_strata_decrease_and_rare_classes_skip_images(scenes):
    counts = scenes.class_counts()
    assert np.all(np.diff(counts) < 0) and counts[-1] >= 30
    present = np.array([[np.any(m == c) for c in range(4)] for m in scenes.masks])
    assert 0.3 < present[:, 2].mean() < 0.6 and 0.1 < present[:, 3].mean() < 0.25
    # an exponential profile over the strata thins the rarest class most
    targets = parse_imbalance({"profile": "exponential", "ratio": 10}, CLASSES).targets(counts)
    assert targets[0] == counts[0] and targets[-1] == counts[0] // 10


def test_shapes_colour_alone_does_not_decide_the_class(scenes):
    pixels = np.moveaxis(scenes.X, 1, -1)
    for c in range(1, 4):
        mine = pixels[scenes.masks == c].mean(axis=1)
        background = pixels[scenes.masks == 0].mean(axis=1)
        # the middle half of each class's brightness overlaps the background's range
        lo, hi = np.quantile(mine, [0.25, 0.75])
        assert background.min() < lo and hi < background.max()


def test_shapes_lines_are_one_pixel_wide():
    rng = np.random.default_rng(1)
    lines = _segments(rng, 50, 4, 32, dashed=False)
    # no 2x2 block of one line is all set: a 1-pixel line never thickens into a square
    blocks = lines[..., :-1, :-1] & lines[..., 1:, :-1] & lines[..., :-1, 1:] & lines[..., 1:, 1:]
    assert lines.any() and not blocks.any()
    # 8-connected: one pixel per step along the major axis, never a staircase
    lengths = lines.sum(axis=(2, 3))
    assert 0 < lengths.max() <= 0.7 * 32 + 1
    rows, cols = lines.any(axis=3).sum(axis=2), lines.any(axis=2).sum(axis=2)
    assert np.all(lengths == np.maximum(rows, cols))


def test_shapes_is_deterministic():
    a, b, c = shapes("a", n_images=40, seed=3), shapes("b", n_images=40, seed=3), \
        shapes("c", n_images=40, seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X) and not np.array_equal(a.masks, c.masks)


def test_shapes_noise_and_size():
    clean = shapes("a", n_images=20, noise=0.0, size=48)
    noisy = shapes("a", n_images=20, noise=0.2, size=48)
    assert clean.X.shape == (20, 3, 48, 48)
    np.testing.assert_array_equal(clean.masks, noisy.masks)
    assert np.abs(noisy.X - clean.X).mean() > 0.1


@pytest.mark.parametrize("border", [1, 2])
def test_shapes_ignore_border_only_near_rarer_objects(border):
    plain = shapes("p", n_images=60, seed=5)
    bordered = shapes("b", n_images=60, seed=5, ignore_border=border)
    np.testing.assert_array_equal(plain.X, bordered.X)
    ignored = bordered.masks == IGNORE
    assert ignored.any() and bordered.meta["ignore_index"] == IGNORE
    assert bordered.meta["ignored_pixels"] == int(ignored.sum())
    np.testing.assert_array_equal(bordered.masks[~ignored], plain.masks[~ignored])
    # every ignored pixel has a pixel of a rarer (higher) class within `border` pixels
    m = plain.masks
    padded = np.pad(m, ((0, 0), (border, border), (border, border)))
    _, h, w = m.shape
    near = np.max([padded[:, dy:dy + h, dx:dx + w] for dy in range(2 * border + 1)
                   for dx in range(2 * border + 1)], axis=0)
    assert np.all(near[ignored] > m[ignored])
    assert np.array_equal(ignored, near > m)
    # the rarest class keeps all its pixels: the band is carved from the commoner class
    assert np.sum(bordered.masks == 3) == np.sum(m == 3)
    # most pixels far from objects stay labelled
    assert ignored.mean() < 0.25


def test_shapes_is_fast():
    generate(400, 32, 0.08, seed=0)  # warm up
    start = time.perf_counter()
    shapes("s", n_images=400)
    assert time.perf_counter() - start < 1.5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_images": 5}, r"parameter 'n_images': 5 is invalid \(expected an integer >= 10\)"),
        ({"size": 8}, r"parameter 'size': 8 is invalid"),
        ({"noise": -0.1}, r"parameter 'noise': -0.1 is invalid"),
        ({"ignore_border": 9}, r"parameter 'ignore_border': 9 is invalid"),
        ({"classes": 3}, r"has no parameter 'classes'"),
    ],
)
def test_shapes_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        load_dataset("shapes", "s", params)


# --- segmentation_folder -------------------------------------------------------------------------


@pytest.mark.parametrize("mask_mode", ["L", "P"])
def test_folder_reads_pairs(tmp_path, mask_mode):
    root = make_segmentation_folder(tmp_path, mask_mode=mask_mode)
    ds = load_dataset("segmentation_folder", "seg", {"path": str(root)})
    raw = segmentation_masks()
    assert ds.kind == "segmentation" and ds.class_names == SEGMENTATION_CLASSES
    assert ds.X.shape == (12, 3, 8, 8) and ds.X.dtype == np.float32
    np.testing.assert_array_equal(ds.masks, _expected(raw))
    assert ds.y.tolist() == [0, 1, 2] * 4
    assert ds.meta["ignore_index"] == 255 and ds.meta["ignored_pixels"] == 3 * 8
    # pixels give the classes back (class 1 is label_rgb(1) / 255)
    square = ds.masks[1] == 1
    np.testing.assert_allclose(ds.X[1][:, square].T, np.array([label_rgb(1)] * square.sum()) / 255)


def test_folder_grayscale_and_jpeg_images(tmp_path):
    root = make_segmentation_folder(tmp_path, mode="grayscale", image_ext="jpg")
    ds = folder("seg", path=str(root), mode="Grayscale")
    assert ds.X.shape == (12, 1, 8, 8)
    background = ds.masks[0] == 0
    assert np.abs(ds.X[0, 0][background] * 255 - label_value(0)).max() < 8


def test_folder_class_names_parameter_replaces_classes_txt(tmp_path):
    root = make_segmentation_folder(tmp_path, class_names=None)
    ds = folder("seg", path=str(root), class_names=["bg", "sq", "dt"])
    assert ds.class_names == ("bg", "sq", "dt") and ds.meta["class_names_from"] == "parameter class_names"


def test_folder_ignore_index(tmp_path):
    raw = segmentation_masks()
    raw[raw == VOID] = 7
    root = make_segmentation_folder(tmp_path, raw)
    ds = folder("seg", path=str(root), ignore_index=7)
    np.testing.assert_array_equal(ds.masks, _expected(raw, 7))
    with pytest.raises(DataError, match=r"mask masks/000.png holds mask value 7; expected a class "
                                        r"0\.\.2 or the ignore index 255"):
        folder("seg", path=str(root))


def test_folder_without_ignore_index(tmp_path):
    raw = segmentation_masks()
    raw[raw == VOID] = 0
    ds = folder("seg", path=str(make_segmentation_folder(tmp_path, raw)), ignore_index=None)
    assert ds.meta["ignore_index"] is None and not np.any(ds.masks == IGNORE)


def test_folder_resizes_masks_with_the_nearest_pixel(tmp_path):
    raw = segmentation_masks(size=16)
    root = make_segmentation_folder(tmp_path, raw)
    ds = folder("seg", path=str(root), size=[8, 12])
    assert ds.X.shape == (12, 3, 8, 12) and ds.masks.shape == (12, 8, 12)
    for i in range(12):
        want = np.asarray(Image.fromarray(raw[i]).resize((12, 8), Image.Resampling.NEAREST))
        np.testing.assert_array_equal(ds.masks[i], _expected(want))
    assert set(np.unique(ds.masks)) <= {-1, 0, 1, 2}  # never a blend of two classes


def test_folder_ignores_hidden_and_other_files(tmp_path):
    root = make_segmentation_folder(tmp_path)
    (root / "images" / ".DS_Store").write_bytes(b"x")
    (root / "masks" / "notes.txt").write_text("x")
    (root / "images" / "extra").mkdir()
    ds = folder("seg", path=str(root))
    assert len(ds.y) == 12 and ds.meta["ignored_files"] == 2


def _folder_error(tmp_path, message, **params):
    with pytest.raises(DataError, match=message) as err:
        folder("seg", path=str(tmp_path / "data"), **params)
    assert "\n" not in str(err.value)


def test_folder_missing(tmp_path):
    _folder_error(tmp_path, r"segmentation folder .*data not found")


@pytest.mark.parametrize("sub", ["images", "masks"])
def test_folder_missing_subfolder(tmp_path, sub):
    root = make_segmentation_folder(tmp_path / "data")
    for f in (root / sub).iterdir():
        f.unlink()
    (root / sub).rmdir()
    _folder_error(tmp_path, rf"'{sub}/' is missing; put the {sub}")


def test_folder_image_without_mask_is_named(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    (root / "masks" / "004.png").unlink()
    (root / "masks" / "007.png").unlink()
    _folder_error(tmp_path, r"2 image\(s\) without a mask: 004.png, 007.png \(expected "
                            r"masks/<stem>.png\)")


def test_folder_mask_without_image_is_named(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    (root / "images" / "011.png").unlink()
    _folder_error(tmp_path, r"1 mask\(s\) without an image: 011.png")


def test_folder_mask_value_outside_the_classes(tmp_path):
    raw = segmentation_masks()
    raw[5, 2, 2] = 3
    make_segmentation_folder(tmp_path / "data", raw)
    _folder_error(tmp_path, r"mask masks/005.png holds mask value 3; expected a class 0\.\.2")


def test_folder_image_and_mask_sizes_differ(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    Image.new("RGB", (9, 8)).save(root / "images" / "003.png")
    _folder_error(tmp_path, r"image 003.png is 8x9 \(H x W\) but its mask 003.png is 8x8",
                  size=8)


def test_folder_images_of_several_sizes_need_size(tmp_path):
    raw = list(segmentation_masks())
    raw[2] = np.zeros((10, 10), dtype=np.uint8)
    make_segmentation_folder(tmp_path / "data", raw)
    _folder_error(tmp_path, r"images differ in size \(000.png is 8x8, 002.png is 10x10, H x W\); "
                            r"give size")
    assert folder("seg", path=str(tmp_path / "data"), size=8).X.shape == (12, 3, 8, 8)


def test_folder_empty(tmp_path):
    root = make_segmentation_folder(tmp_path / "data", [])
    assert not any((root / "images").iterdir())
    _folder_error(tmp_path, r"images/ and masks/ hold no pairs of files")


def test_folder_rgb_mask_is_refused(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    Image.new("RGB", (8, 8)).save(root / "masks" / "001.png")
    # Said once, not wrapped in "cannot read mask ...: DataError: ...".
    _folder_error(tmp_path, r"^mask .*001.png is a RGB image; a mask must be one channel")


def test_folder_without_class_names(tmp_path):
    make_segmentation_folder(tmp_path / "data", class_names=None)
    _folder_error(tmp_path, r"has no classes.txt; write one \(line i names class i\) or give "
                            r"class_names")


def test_folder_bad_classes_txt(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    (root / "classes.txt").write_text("a\n\nb\n")
    _folder_error(tmp_path, r"classes.txt: line 2 is empty")
    (root / "classes.txt").write_text("a\nb\na\n")
    _folder_error(tmp_path, r"classes.txt repeats a")


def test_folder_class_without_pixels(tmp_path):
    make_segmentation_folder(tmp_path / "data", class_names=["a", "b", "c", "d"])
    _folder_error(tmp_path, r"class 'd' has no pixel in any mask")


def test_folder_image_without_labelled_pixel_is_named(tmp_path):
    raw = segmentation_masks()
    raw[3] = VOID
    make_segmentation_folder(tmp_path / "data", raw)
    _folder_error(tmp_path, r"image 003.png has no labelled pixel")


def test_folder_ignore_index_that_is_a_class(tmp_path):
    make_segmentation_folder(tmp_path / "data")
    _folder_error(tmp_path, r"ignore_index 2 is class 'dot'", ignore_index=2)


def test_folder_two_images_with_one_stem(tmp_path):
    root = make_segmentation_folder(tmp_path / "data")
    Image.new("RGB", (8, 8)).save(root / "images" / "000.jpg")
    _folder_error(tmp_path, r"images/ holds both 000.jpg and 000.png")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mode": "cmyk"}, r"segmentation_folder mode"),
        ({"size": 0}, r"segmentation_folder: size must be a positive integer"),
        ({"class_names": ["a"]}, r"parameter 'class_names': \['a'\] is invalid"),
        ({"class_names": ["a", "a"]}, r"class_names needs at least 2 distinct names"),
        ({"ignore_index": -1}, r"parameter 'ignore_index': -1 is invalid"),
    ],
)
def test_folder_bad_params(tmp_path, params, message):
    root = make_segmentation_folder(tmp_path)
    with pytest.raises(ConfigError, match=message):
        load_dataset("segmentation_folder", "seg", {"path": str(root), **params})


# --- npz with masks -----------------------------------------------------------------------------


def _archive(tmp_path, **arrays):
    path = tmp_path / "seg.npz"
    np.savez(path, **arrays)
    return str(path)


def test_npz_masks_with_ignore_index(tmp_path):
    raw = segmentation_masks()
    images = (raw * 50).astype(np.uint8)
    path = _archive(tmp_path, x=images, masks=raw)
    ds = npz("n", path=path, mask_key="masks", class_names=list(SEGMENTATION_CLASSES),
             ignore_index=255)
    assert ds.kind == "segmentation" and ds.source == "npz"
    assert ds.X.shape == (12, 1, 8, 8) and ds.X.max() <= 1.0
    np.testing.assert_array_equal(ds.masks, _expected(raw))
    assert ds.y.tolist() == [0, 1, 2] * 4
    assert ds.meta["mask_key"] == "masks" and ds.meta["ignore_index"] == 255


def test_npz_masks_numbered_classes_and_channels(tmp_path):
    raw = segmentation_masks().astype(np.int16)
    raw[raw == VOID] = -1
    x = np.random.default_rng(0).random((12, 3, 8, 8)).astype(np.float32)
    ds = npz("n", path=_archive(tmp_path, x=x, m=raw[:, None]), mask_key="m", ignore_index=-1)
    assert ds.class_names == ("0", "1", "2") and ds.X.shape == (12, 3, 8, 8)
    np.testing.assert_array_equal(ds.masks, raw)
    np.testing.assert_array_equal(ds.X, x)


def test_npz_without_mask_key_is_unchanged(tmp_path):
    path = _archive(tmp_path, x=np.zeros((4, 2, 2), np.uint8), y=np.array([0, 1, 0, 1]))
    ds = npz("n", path=path)
    assert ds.kind == "image" and ds.masks is None and ds.meta["y_key"] == "y"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mask_key": "masks", "y_key": "y"}, r"y_key \('y'\) is not used with mask_key"),
        ({"mask_key": "x"}, r"x_key and mask_key are both 'x'"),
        ({"class_names": ["a", "b"]}, r"class_names is for segmentation masks; give mask_key"),
        ({"ignore_index": 255}, r"ignore_index is for segmentation masks; give mask_key"),
        ({"mask_key": "masks", "class_names": ["a", "a"]}, r"at least 2 distinct names"),
        ({"mask_key": "masks", "class_names": ["a", "b", "c"], "ignore_index": 2},
         r"ignore_index 2 is class 'c'; an ignore index must lie outside 0\.\.2"),
        ({"mask_key": "masks", "ignore_index": 1},
         r"ignore_index 1 lies among the mask's classes 0\.\.2"),
    ],
)
def test_npz_mask_options(tmp_path, params, message):
    path = _archive(tmp_path, x=np.zeros((12, 8, 8), np.uint8), masks=segmentation_masks())
    with pytest.raises(ConfigError, match=message):
        npz("n", path=path, **params)


@pytest.mark.parametrize(
    ("masks", "params", "message"),
    [
        (np.zeros((12, 8, 7), np.uint8), {}, r"masks 'masks' have shape \(12, 8, 7\); expected "
                                             r"\(12, 8, 8\)"),
        (np.zeros((12, 8, 8), np.float32), {}, r"have dtype float32; masks need integer"),
        (segmentation_masks(), {}, r"class '3', '4', '5', '6', '7' and 247 more have no pixel"),
        (segmentation_masks(), {"ignore_index": 255, "class_names": ["a", "b"]},
         r"holds mask value 2; expected a class 0\.\.1 or the ignore index 255"),
        (np.zeros((12, 8, 8), np.uint8), {}, r"hold 1 class\(es\); need at least 2"),
        (np.full((12, 8, 8), -1, np.int16), {}, r"hold the negative value -1; classes are 0\.\.C-1: "
                                                r"set ignore_index"),
        ("missing", {}, r"unknown mask array 'masks' \(valid: x\)"),
    ],
)
def test_npz_bad_masks(tmp_path, masks, params, message):
    arrays = {"x": np.zeros((12, 8, 8), np.uint8)}
    if not isinstance(masks, str):
        arrays["masks"] = masks
    with pytest.raises(DataError, match=message):
        npz("n", path=_archive(tmp_path, **arrays), mask_key="masks", **params)


def test_npz_masks_need_images(tmp_path):
    path = _archive(tmp_path, x=np.zeros((12, 5), np.float32), masks=segmentation_masks())
    with pytest.raises(DataError, match=r"segmentation needs images"):
        npz("n", path=path, mask_key="masks", ignore_index=255)
