"""The image sources (digits, image_folder, idx, npz), with small files written per test, and
imbalance synthesis on 4-D image arrays."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from PIL import Image

from dflbench.datasets import SOURCES, Dataset, load_dataset
from dflbench.errors import ConfigError, DataError
from dflbench.imbalance import apply_imbalance, parse_imbalance
from tests.unit.datasets.image_fixtures import (
    idx_bytes,
    label_images,
    label_rgb,
    label_value,
    make_image_folder,
    write_idx,
)

digits = SOURCES.get("digits")
image_folder = SOURCES.get("image_folder")
idx = SOURCES.get("idx")
npz = SOURCES.get("npz")


def check_images(ds: Dataset, *, source: str, shape: tuple[int, ...], n_classes: int) -> None:
    """The image side of the Dataset contract: float32 (N, C, H, W) in [0, 1]."""
    assert isinstance(ds, Dataset)
    assert ds.source == source and ds.kind == "image"
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == np.float32
    assert ds.X.shape == shape and ds.X.flags.c_contiguous
    assert float(ds.X.min()) >= 0.0 and float(ds.X.max()) <= 1.0
    assert ds.y.dtype == np.int64 and ds.y.shape == (shape[0],)
    assert ds.n_classes == n_classes
    assert set(np.unique(ds.y)) == set(range(n_classes)), "every class 0..C-1 is present"
    assert all(isinstance(n, str) for n in ds.class_names)
    assert len(set(ds.class_names)) == n_classes
    assert ds.description and "\n" not in ds.description
    assert ds.meta["image_shape"] == list(shape[1:])


def gray(k: int) -> np.float32:
    return np.float32(label_value(k) / 255.0)


# --- registry -------------------------------------------------------------------------------


def test_image_sources_registered():
    assert {"digits", "image_folder", "idx", "npz"} <= set(SOURCES.names())


# --- digits ---------------------------------------------------------------------------------


def test_digits_are_sklearn_digits_over_16():
    from sklearn.datasets import load_digits

    ds = digits("my digits")
    check_images(ds, source="digits", shape=(1797, 1, 8, 8), n_classes=10)
    ref = load_digits()
    np.testing.assert_array_equal(ds.X.reshape(1797, 64), (ref.data / 16.0).astype(np.float32))
    np.testing.assert_array_equal(ds.y, ref.target)
    assert ds.class_names == tuple(str(d) for d in range(10))
    assert ds.name == "my digits"
    assert ds.X.max() == 1.0 and ds.X.min() == 0.0


def test_digits_through_load_dataset():
    ds = load_dataset("digits", "d")
    assert ds.kind == "image" and len(ds.y) == 1797
    with pytest.raises(ConfigError, match="has no parameter 'size'"):
        load_dataset("digits", "d", {"size": 8})


# --- image_folder ---------------------------------------------------------------------------


def test_folder_grayscale_png(tmp_path):
    root = make_image_folder(tmp_path / "pets", ["cat", "dog", "emu"], [4, 3, 2], size=8)
    ds = image_folder("pets", path=str(root), size=8)
    check_images(ds, source="image_folder", shape=(9, 1, 8, 8), n_classes=3)
    assert ds.class_names == ("cat", "dog", "emu")
    assert ds.y.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    for i, label in enumerate(ds.y):
        assert np.all(ds.X[i] == gray(int(label)))
    assert ds.meta["images_per_class"] == {"cat": 4, "dog": 3, "emu": 2}
    assert ds.meta["mode"] == "grayscale" and ds.meta["ignored_files"] == 0
    assert ds.meta["path"] == str(root.resolve())
    assert "pets" in ds.description


def test_folder_class_names_sorted_not_creation_order(tmp_path):
    root = make_image_folder(tmp_path, ["zebra", "Ant", "bee"], 1)
    ds = image_folder("z", path=str(root), size=4)
    assert ds.class_names == ("Ant", "bee", "zebra")  # sorted() as torchvision does
    assert [float(ds.X[i, 0, 0, 0]) for i in range(3)] == pytest.approx([gray(1), gray(2), gray(0)])


def test_folder_default_size_is_32(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 1, size=(10, 20))
    ds = image_folder("d", path=str(root))
    assert ds.X.shape == (2, 1, 32, 32)


def test_folder_rgb(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 2, size=6, mode="rgb")
    ds = image_folder("c", path=str(root), size=6, mode="rgb")
    check_images(ds, source="image_folder", shape=(4, 3, 6, 6), n_classes=2)
    for i, label in enumerate(ds.y):
        expected = np.array(label_rgb(int(label)), dtype=np.float32) / 255
        np.testing.assert_allclose(ds.X[i, :, 2, 3], expected)
        assert np.all(ds.X[i] == ds.X[i, :, :1, :1])


def test_folder_rgb_images_read_as_grayscale_use_luma(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 1, size=4, mode="rgb")
    ds = image_folder("c", path=str(root), size=4)
    assert ds.X.shape == (2, 1, 4, 4)
    r, g, b = label_rgb(0)
    luma = (r * 299 + g * 587 + b * 114) / 1000 / 255  # ITU-R 601-2, Pillow's "L"
    assert ds.X[0, 0, 0, 0] == pytest.approx(luma, abs=1 / 255)


def test_folder_grayscale_images_read_as_rgb_repeat_channels(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 1, size=4)
    ds = image_folder("c", path=str(root), size=4, mode="RGB")
    assert ds.meta["mode"] == "rgb"
    assert ds.X.shape == (2, 3, 4, 4)
    assert np.all(ds.X[1] == gray(1))


def test_folder_jpeg_and_mixed_extensions(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 4, size=8, ext=["png", "jpg", "jpeg", "JPG"])
    ds = image_folder("j", path=str(root), size=8)
    assert ds.meta["images_per_class"] == {"a": 4, "b": 4}
    for i, label in enumerate(ds.y):  # flat JPEG blocks survive within a grey level or two
        np.testing.assert_allclose(ds.X[i], gray(int(label)), atol=2 / 255)


def test_folder_resizes_every_size_bilinear(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 3, size=[(8, 8), (12, 6), (5, 9)])
    ds = image_folder("r", path=str(root), size=[4, 6])
    assert ds.X.shape == (6, 1, 4, 6)
    for i, label in enumerate(ds.y):  # a flat image stays flat under any resize
        np.testing.assert_allclose(ds.X[i], gray(int(label)), atol=1 / 255)
    # A gradient: the result is exactly Pillow's bilinear resize to (width 6, height 4).
    ramp = (np.arange(12 * 10).reshape(12, 10) * 2).astype(np.uint8)
    Image.fromarray(ramp).save(root / "a" / "ramp.png")
    ds = image_folder("r", path=str(root), size=[4, 6])
    idx_ramp = ds.meta["images_per_class"]["a"] - 1  # "ramp.png" sorts after "002.png"
    expected = np.asarray(Image.fromarray(ramp).resize((6, 4), Image.Resampling.BILINEAR))
    np.testing.assert_allclose(ds.X[idx_ramp, 0], expected / 255, atol=1e-6)


def test_folder_ignores_other_and_hidden_files(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 2, size=4)
    (root / "README.txt").write_text("not a class")
    (root / "a" / "notes.txt").write_text("x")
    (root / "a" / "anim.gif").write_bytes(b"GIF89a")
    Image.new("L", (4, 4), 255).save(root / "a" / ".hidden.png")
    (root / ".cache").mkdir()
    Image.new("L", (4, 4), 255).save(root / ".cache" / "x.png")
    (root / "b" / ".thumbs").mkdir()
    Image.new("L", (4, 4), 255).save(root / "b" / ".thumbs" / "t.png")
    ds = image_folder("h", path=str(root), size=4)
    assert ds.class_names == ("a", "b")
    assert ds.meta["images_per_class"] == {"a": 2, "b": 2}
    assert ds.meta["ignored_files"] == 2  # notes.txt, anim.gif (hidden ones are not counted)
    assert float(ds.X.max()) < 1.0  # no white hidden image slipped in


def test_folder_finds_images_in_nested_folders_in_sorted_order(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], 1, size=4)
    (root / "a" / "sub").mkdir()
    Image.new("L", (4, 4), 7).save(root / "a" / "sub" / "000.png")
    Image.new("L", (4, 4), 9).save(root / "a" / "zz.png")
    ds = image_folder("n", path=str(root), size=4)
    # relative paths sorted: 000.png, sub/000.png, zz.png
    assert ds.X[:3, 0, 0, 0].tolist() == pytest.approx([gray(0), 7 / 255, 9 / 255])
    assert ds.meta["images_per_class"] == {"a": 3, "b": 1}


def test_folder_max_per_class_keeps_first_sorted(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b"], [5, 2], size=4)
    Image.new("L", (4, 4), 3).save(root / "a" / "000_first.png")
    ds = image_folder("m", path=str(root), size=4, max_per_class=3)
    assert ds.meta["images_per_class"] == {"a": 3, "b": 2}
    assert ds.y.tolist() == [0, 0, 0, 1, 1]
    assert ds.X[0, 0, 0, 0] == pytest.approx(gray(0))  # 000.png
    assert ds.X[1, 0, 0, 0] == pytest.approx(3 / 255)  # 000_first.png
    assert ds.meta["max_per_class"] == 3


def test_folder_is_deterministic(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b", "c"], [3, 2, 4], size=[(5, 7), (9, 4)])
    a = image_folder("a", path=str(root), size=6)
    b = image_folder("b", path=str(root), size=6)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


def test_folder_16_bit_png_scaled_not_clipped(tmp_path):
    make_image_folder(tmp_path, ["a"], 1, size=4)
    (tmp_path / "b").mkdir()
    Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16)).save(tmp_path / "b" / "w.png")
    ds = image_folder("w", path=str(tmp_path), size=4)
    assert ds.X[1].max() == pytest.approx(32768 / 65535)
    ds = image_folder("w", path=str(tmp_path), size=2, mode="rgb")
    assert ds.X.shape == (2, 3, 2, 2) and ds.X[1].min() == pytest.approx(32768 / 65535)


def test_folder_through_load_dataset_with_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    make_image_folder(tmp_path / "imgs", ["a", "b"], 1, size=4)
    ds = load_dataset("image_folder", "t", {"path": "~/imgs", "size": 4})
    assert ds.X.shape == (2, 1, 4, 4)
    with pytest.raises(ConfigError, match="did you mean 'max_per_class'"):
        load_dataset("image_folder", "t", {"path": "~/imgs", "max_per_clas": 1})


def test_folder_missing(tmp_path):
    with pytest.raises(DataError, match=r"image folder .*nope not found"):
        image_folder("x", path=str(tmp_path / "nope"))


def test_folder_is_a_file(tmp_path):
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"f.png is a file, not a folder of class sub-folders"):
        image_folder("x", path=str(tmp_path / "f.png"))


def test_folder_without_class_folders(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "loose.png")
    (tmp_path / ".hidden").mkdir()
    with pytest.raises(DataError, match=r"has no class sub-folders; put each class"):
        image_folder("x", path=str(tmp_path))


def test_folder_with_one_class(tmp_path):
    make_image_folder(tmp_path, ["only"], 2, size=4)
    with pytest.raises(DataError, match=r"1 class sub-folder \('only'\); need at least 2"):
        image_folder("x", path=str(tmp_path))


def test_folder_class_without_images(tmp_path):
    make_image_folder(tmp_path, ["a"], 1, size=4)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"class folder 'b' has no images \(.png, .jpg, .jpeg"):
        image_folder("x", path=str(tmp_path))


@pytest.mark.parametrize(
    "content",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "truncated"],
    ids=["garbage", "bad-png", "truncated"],
)
def test_folder_corrupt_image_is_named(tmp_path, content):
    make_image_folder(tmp_path, ["a", "b"], 2, size=16)
    bad = tmp_path / "b" / "broken.png"
    if content == "truncated":
        content = (tmp_path / "b" / "000.png").read_bytes()[:-30]
    bad.write_bytes(content)
    with pytest.raises(DataError, match=r"cannot read image .*b/broken.png: \w+"):
        image_folder("x", path=str(tmp_path), size=4)


def test_folder_corrupt_jpeg_is_named(tmp_path):
    make_image_folder(tmp_path, ["a", "b"], 1, size=16, ext="jpg")
    data = (tmp_path / "a" / "000.jpg").read_bytes()
    (tmp_path / "a" / "001.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot read image .*a/001.jpg"):
        image_folder("x", path=str(tmp_path), size=4)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mode": "rbg"}, r"unknown image_folder mode 'rbg'; did you mean 'rgb'"),
        ({"mode": "color"}, r"valid: grayscale, rgb"),
        ({"size": 0}, r"size must be a positive integer or a list \[height, width\], got 0"),
        ({"size": [4, 4, 3]}, "got \\[4, 4, 3\\]"),
        ({"size": "big"}, "got 'big'"),
        ({"size": True}, "got True"),
        ({"size": [4, 0]}, "got \\[4, 0\\]"),
        ({"max_per_class": 0}, "max_per_class must be a positive integer or null, got 0"),
        ({"max_per_class": 1.5}, "got 1.5"),
        ({"path": ""}, "path must be a folder path"),
    ],
)
def test_folder_bad_params(tmp_path, params, message):
    params = {"path": str(tmp_path), **params}
    with pytest.raises(ConfigError, match=message):
        image_folder("x", **params)


# --- idx ------------------------------------------------------------------------------------

TRAIN = [0, 1, 2, 1, 0, 2, 2]
TEST = [2, 0, 1]


@pytest.fixture(params=[False, True], ids=["raw", "gz"])
def mnist(tmp_path, request):
    """A tiny MNIST-style folder: 7 train and 3 test 4x5 images whose pixels encode the label,
    plus one pixel holding the sample's index (to check order)."""
    folder = tmp_path / "mnist"
    for split, labels, start in (("train", TRAIN, 0), ("test", TEST, len(TRAIN))):
        images = label_images(labels, size=(4, 5))
        images[:, 3, 4] = np.arange(start, start + len(labels))
        write_idx(folder, images, np.array(labels), request.param, split=split)
    return folder


def test_idx_all_is_train_then_test(mnist):
    ds = idx("mnist", path=str(mnist))
    check_images(ds, source="idx", shape=(10, 1, 4, 5), n_classes=3)
    assert ds.y.tolist() == TRAIN + TEST
    assert ds.class_names == ("0", "1", "2")
    for i, label in enumerate(ds.y):
        assert ds.X[i, 0, 0, 0] == gray(int(label))
        assert ds.X[i, 0, 3, 4] == np.float32(i / 255)
    assert ds.meta["split_sizes"] == {"train": 7, "test": 3}
    assert ds.meta["split"] == "all" and ds.meta["labels"] == [0, 1, 2]
    assert "mnist (all)" in ds.description


@pytest.mark.parametrize(("split", "labels"), [("train", TRAIN), ("test", TEST)])
def test_idx_split(mnist, split, labels):
    ds = idx("m", path=str(mnist), split=split)
    assert ds.y.tolist() == labels
    assert list(ds.meta["files"]) == [split]


def test_idx_gz_and_raw_agree(tmp_path):
    images, labels = label_images([0, 1, 1, 0]), np.array([0, 1, 1, 0])
    write_idx(tmp_path / "raw", images, labels, gz=False)
    write_idx(tmp_path / "gz", images, labels, gz=True)
    a = idx("a", path=str(tmp_path / "raw"), split="train")
    b = idx("b", path=str(tmp_path / "gz"), split="train")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert b.meta["files"]["train"]["images"].endswith("train-images-idx3-ubyte.gz")


def test_idx_full_pixel_range(tmp_path):
    images = np.arange(2 * 16 * 16, dtype=np.int64).reshape(2, 16, 16) % 256
    write_idx(tmp_path, images, np.array([0, 1]), split="train")
    ds = idx("r", path=str(tmp_path), split="train")
    np.testing.assert_array_equal(ds.X[:, 0], (images / 255).astype(np.float32))
    assert ds.X.max() == 1.0 and ds.X.min() == 0.0


def test_idx_class_names_index_label_values(mnist):
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress"]
    ds = idx("fashion", path=str(mnist), class_names=names)
    assert ds.class_names == ("T-shirt/top", "Trouser", "Pullover")
    assert ds.meta["absent_classes"] == ["Dress"]
    assert ds.y.tolist() == TRAIN + TEST


def test_idx_labels_with_gaps_are_renumbered(tmp_path):
    # EMNIST letters: labels 1..26; here 3 and 7 with names for 0..7.
    write_idx(tmp_path, label_images([3, 7, 3]), np.array([3, 7, 3]), split="train")
    ds = idx("l", path=str(tmp_path), split="train")
    assert ds.class_names == ("3", "7") and ds.y.tolist() == [0, 1, 0]
    assert ds.meta["labels"] == [3, 7]
    ds = idx("l", path=str(tmp_path), split="train", class_names=list("abcdefgh"))
    assert ds.class_names == ("d", "h") and ds.y.tolist() == [0, 1, 0]


def test_idx_limit_takes_first_in_file_order(mnist):
    ds = idx("m", path=str(mnist), limit=4)
    assert ds.y.tolist() == TRAIN[:4] and ds.X.shape == (4, 1, 4, 5)
    assert ds.meta["limit"] == 4
    ds = idx("m", path=str(mnist), limit=100)
    assert len(ds.y) == 10


def test_idx_explicit_files(mnist, tmp_path):
    suffix = next(mnist.glob("t10k-images*")).name[len("t10k-images-idx3-ubyte") :]
    ds = idx(
        "m",
        path=str(mnist),
        images=f"t10k-images-idx3-ubyte{suffix}",
        labels=f"t10k-labels-idx1-ubyte{suffix}",
    )
    assert ds.y.tolist() == TEST
    assert ds.meta["split"] is None and list(ds.meta["files"]) == ["files"]
    absolute = idx(
        "m",
        images=str(mnist / f"train-images-idx3-ubyte{suffix}"),
        labels=str(mnist / f"train-labels-idx1-ubyte{suffix}"),
    )
    assert absolute.y.tolist() == TRAIN


def test_idx_prefixed_and_dotted_names(tmp_path):
    images, labels = label_images([0, 1]), np.array([0, 1])
    (tmp_path / "emnist-letters-train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(images))
    )
    (tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels))
    )
    (tmp_path / "t10k-images.idx3-ubyte").write_bytes(idx_bytes(images[::-1]))
    (tmp_path / "t10k-labels.idx1-ubyte").write_bytes(idx_bytes(labels[::-1]))
    ds = idx("e", path=str(tmp_path))
    assert ds.y.tolist() == [0, 1, 1, 0]


def test_idx_several_candidates(tmp_path):
    images, labels = label_images([0, 1]), np.array([0, 1])
    for variant in ("balanced", "digits"):
        write_idx(tmp_path / "tmp", images, labels, split="train")
        for what in ("images-idx3", "labels-idx1"):
            (tmp_path / "tmp" / f"train-{what}-ubyte").rename(
                tmp_path / f"emnist-{variant}-train-{what}-ubyte"
            )
    with pytest.raises(
        DataError,
        match=r"several train images files \(emnist-balanced-train-images-idx3-ubyte, "
        r"emnist-digits-train-images-idx3-ubyte\); choose with images and labels",
    ):
        idx("e", path=str(tmp_path), split="train")


def test_idx_is_deterministic(mnist):
    a, b = idx("a", path=str(mnist)), idx("b", path=str(mnist))
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


def test_idx_folder_missing(tmp_path):
    with pytest.raises(DataError, match=r"idx folder .*nope not found"):
        idx("x", path=str(tmp_path / "nope"))


def test_idx_path_is_a_file(mnist):
    with pytest.raises(DataError, match=r"is a file; give its folder as path"):
        idx("x", path=str(next(mnist.glob("train-images*"))))


def test_idx_test_files_missing_suggests_split(tmp_path):
    write_idx(tmp_path, label_images([0, 1]), np.array([0, 1]), split="train")
    with pytest.raises(DataError) as err:
        idx("x", path=str(tmp_path))
    msg = str(err.value)
    assert "has no t10k-images-idx3-ubyte[.gz] for split test" in msg
    assert "(files: train-images-idx3-ubyte, train-labels-idx1-ubyte); set split: train" in msg


def test_idx_empty_folder(tmp_path):
    with pytest.raises(DataError, match=r"no train-images-idx3-ubyte\[.gz\] .*\(files: none\)$"):
        idx("x", path=str(tmp_path), split="train")


def test_idx_labels_file_missing(tmp_path):
    write_idx(tmp_path, label_images([0, 1]), np.array([0, 1]), split="train")
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"no train-labels-idx1-ubyte\[.gz\] for split train"):
        idx("x", path=str(tmp_path), split="train")


def test_idx_explicit_file_missing(tmp_path):
    with pytest.raises(DataError, match=r"idx images file .*imgs not found"):
        idx("x", images=str(tmp_path / "imgs"), labels=str(tmp_path / "lbls"))


def test_idx_count_mismatch(tmp_path):
    _, labels_file = write_idx(
        tmp_path, label_images([0, 1, 1]), np.array([0, 1, 1]), split="train"
    )
    labels_file.write_bytes(idx_bytes(np.array([0, 1], dtype=np.uint8)))
    with pytest.raises(
        DataError,
        match=r"train-images-idx3-ubyte holds 3 images but labels file "
        r".*train-labels-idx1-ubyte holds 2 labels",
    ):
        idx("x", path=str(tmp_path), split="train")


def test_idx_image_sizes_differ_between_splits(tmp_path):
    write_idx(tmp_path, label_images([0, 1], size=4), np.array([0, 1]), split="train")
    write_idx(tmp_path, label_images([0, 1], size=5), np.array([0, 1]), split="test")
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte holds 5x5 images, .* holds 4x4"):
        idx("x", path=str(tmp_path))


def _idx_pair(tmp_path, images_bytes=None, labels_bytes=None):
    images, labels = label_images([0, 1, 0]), np.array([0, 1, 0], dtype=np.uint8)
    (tmp_path / "i").write_bytes(idx_bytes(images) if images_bytes is None else images_bytes)
    (tmp_path / "l").write_bytes(idx_bytes(labels) if labels_bytes is None else labels_bytes)
    return {"images": str(tmp_path / "i"), "labels": str(tmp_path / "l")}


GOOD_IMAGES = idx_bytes(label_images([0, 1, 0]))
GOOD_LABELS = idx_bytes(np.array([0, 1, 0], dtype=np.uint8))


SWAPPED = (
    r"idx images file .*/i has magic number 0x00000801 \(unsigned byte, 1 dimensions\); "
    r"expected 0x00000803 \(unsigned byte, 3 dimensions\); it looks like a labels file: "
    r"are images and labels swapped\?"
)
LABELS_3D = (
    r"idx labels file .*/l has magic number 0x00000803 .* expected 0x00000801 "
    r"\(unsigned byte, 1 dimension\); it looks like an images file"
)
TRUNCATED = r"/i is truncated: its header says 3 x 4 x 4 = 48 bytes of data, the file holds 43"
BAD_IDX = [
    pytest.param(GOOD_LABELS, GOOD_IMAGES, SWAPPED, id="swapped"),
    pytest.param(b"\x00\x00\x08", GOOD_LABELS, r"/i is too short .* \(3 bytes\)", id="short"),
    pytest.param(
        b"PK\x03\x04 zip?",
        GOOD_LABELS,
        r"/i is not an IDX file \(magic number 0x504b0304; expected 0x00000803\)",
        id="not-idx",
    ),
    pytest.param(
        idx_bytes(np.zeros((3, 2, 2)), 0x0D),
        GOOD_LABELS,
        r"magic number 0x00000d03 \(float, 3 dimensions\); expected 0x00000803",
        id="float",
    ),
    pytest.param(
        idx_bytes(np.zeros((3, 4), np.uint8)),
        GOOD_LABELS,
        r"magic number 0x00000802 \(unsigned byte, 2 dimensions\)",
        id="2-d",
    ),
    pytest.param(GOOD_IMAGES[:-5], GOOD_LABELS, TRUNCATED, id="truncated"),
    pytest.param(
        GOOD_IMAGES + b"\x00",
        GOOD_LABELS,
        r"/i has extra bytes after the data: .* holds 49",
        id="extra-bytes",
    ),
    pytest.param(GOOD_IMAGES[:10], GOOD_LABELS, r"/i is truncated inside its header", id="header"),
    pytest.param(
        idx_bytes(np.zeros((0, 4, 4), np.uint8)), GOOD_LABELS, r"/i holds no samples", id="empty"
    ),
    pytest.param(
        idx_bytes(np.zeros((3, 0, 4), np.uint8)),
        GOOD_LABELS,
        r"/i holds empty images \(0 x 4\)",
        id="empty-images",
    ),
    pytest.param(GOOD_IMAGES, GOOD_IMAGES, LABELS_3D, id="labels-3d"),
    pytest.param(
        GOOD_IMAGES,
        idx_bytes(np.array([0, 1, 0]), 0x0C),
        r"0x00000c01 \(int, 1 dimensions\)",
        id="int-labels",
    ),
    pytest.param(
        gzip.compress(GOOD_IMAGES)[:-12],
        GOOD_LABELS,
        r"cannot decompress idx images file .*/i: EOFError",
        id="gz-truncated",
    ),
    pytest.param(
        b"\x1f\x8b" + b"junk" * 5,
        GOOD_LABELS,
        r"cannot decompress idx images file .*/i: ",
        id="gz-corrupt",
    ),
    pytest.param(
        GOOD_IMAGES,
        idx_bytes(np.array([1, 1, 1], np.uint8)),
        r"idx labels in .*/l has 1 class \('1'\); need at least 2",
        id="one-class",
    ),
]


@pytest.mark.parametrize(("images", "labels", "message"), BAD_IDX)
def test_idx_bad_files(tmp_path, images, labels, message):
    with pytest.raises(DataError, match=message):
        idx("x", **_idx_pair(tmp_path, images, labels))


def test_idx_label_beyond_class_names(tmp_path):
    pair = _idx_pair(tmp_path, labels_bytes=idx_bytes(np.array([0, 5, 0], np.uint8)))
    with pytest.raises(
        DataError, match=r"/l holds label 5 but class_names has 3 names \(labels 0..2\)"
    ):
        idx("x", class_names=["a", "b", "c"], **pair)


def test_idx_one_class_present_with_class_names(tmp_path):
    pair = _idx_pair(tmp_path, labels_bytes=idx_bytes(np.array([2, 2, 2], np.uint8)))
    with pytest.raises(DataError, match=r"have 1 class \('c'\); need at least 2"):
        idx("x", class_names=["a", "b", "c"], **pair)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"split": "val"}, r"unknown idx split 'val'.*valid: all, test, train"),
        ({"split": "tests"}, r"did you mean 'test'"),
        ({}, r"give path \(a folder with MNIST-style files\), or images and labels files"),
        ({"images": "i"}, r"give images and labels together \(labels is missing\)"),
        ({"labels": "l"}, r"\(images is missing\)"),
        ({"images": "i", "labels": "l", "split": "train"}, r"with images and labels, drop it"),
        ({"path": "p", "limit": 0}, r"limit must be a positive integer or null, got 0"),
        ({"path": "p", "limit": True}, r"got True"),
        ({"path": "p", "class_names": "abc"}, r"class_names must be a list of names"),
        ({"path": "p", "class_names": ["a"]}, r"class_names needs at least 2 names, got 1"),
        ({"path": "p", "class_names": ["a", "b", "a"]}, r"class_names repeats a"),
        ({"path": 3}, r"path must be a folder path, got 3"),
        ({"images": 3, "labels": "l"}, r"images must be a file path, got 3"),
    ],
)
def test_idx_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        idx("x", **params)


# --- npz ------------------------------------------------------------------------------------


def save(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_npz_grayscale_uint8(tmp_path):
    labels = np.array([1, 0, 1, 2])
    path = save(tmp_path, x=label_images(labels, size=(3, 5)), y=labels)
    ds = npz("arr", path=str(path))
    check_images(ds, source="npz", shape=(4, 1, 3, 5), n_classes=3)
    assert ds.y.tolist() == [1, 0, 1, 2] and ds.class_names == ("0", "1", "2")
    for i, label in enumerate(ds.y):
        assert np.all(ds.X[i] == gray(int(label)))
    assert ds.meta["scaling"] == "/255" and ds.meta["dtype"] == "uint8"
    assert ds.meta["shape"] == [4, 3, 5]


def test_npz_channels_first_floats_kept(tmp_path):
    x = np.random.default_rng(0).random((5, 3, 4, 4))
    path = save(tmp_path, x=x, y=np.array(["cat", "dog", "cat", "dog", "dog"]))
    ds = npz("f", path=str(path))
    check_images(ds, source="npz", shape=(5, 3, 4, 4), n_classes=2)
    np.testing.assert_array_equal(ds.X, x.astype(np.float32))
    assert ds.class_names == ("cat", "dog") and ds.y.tolist() == [0, 1, 0, 1, 1]
    assert ds.meta["scaling"] == "none"


def test_npz_integer_pixels_of_any_width(tmp_path):
    x = np.array([[[0, 255]], [[128, 1]]], dtype=np.int64)
    ds = npz("i", path=str(save(tmp_path, x=x, y=np.array([0, 1]))))
    np.testing.assert_allclose(ds.X[:, 0], x / 255)


def test_npz_bool_pixels(tmp_path):
    x = np.array([[[True, False]], [[False, False]]])
    ds = npz("b", path=str(save(tmp_path, x=x, y=np.array([0, 1]))))
    assert ds.X.tolist() == [[[[1.0, 0.0]]], [[[0.0, 0.0]]]]


def test_npz_tabular(tmp_path, valid_dataset):
    x = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 6.0]])
    path = save(tmp_path, features=x, target=np.array([[2.0], [7.0], [2.0]]))
    ds = npz("tab", path=str(path), x_key="features", y_key="target")
    valid_dataset(ds, source="npz", n_classes=2)
    assert ds.kind == "tabular"
    assert list(ds.X.columns) == ["x0", "x1"]
    assert ds.X.isna().sum().sum() == 1  # missing values kept for the preprocessor
    assert ds.class_names == ("2", "7") and ds.y.tolist() == [0, 1, 0]


def test_npz_is_deterministic(tmp_path):
    path = save(tmp_path, x=label_images([0, 1, 1]), y=np.array([0, 1, 1]))
    a, b = npz("a", path=str(path)), npz("b", path=str(path))
    np.testing.assert_array_equal(a.X, b.X)


def test_npz_never_unpickles(tmp_path, monkeypatch):
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, {"b": 2}]
    path = save(tmp_path, x=objects, y=np.array([0, 1]))
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    with pytest.raises(DataError, match=r"array 'x' holds Python objects, .* never unpickles"):
        npz("o", path=str(path))
    assert calls == [False]


def test_npz_pickle_file_refused(tmp_path):
    import pickle

    path = tmp_path / "p.npz"
    path.write_bytes(pickle.dumps({"x": [1, 2], "y": [0, 1]}))
    with pytest.raises(DataError, match=r"p.npz is not an .npz archive \(write one with np.savez"):
        npz("p", path=str(path))


def test_npz_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"npz file .*nope.npz not found"):
        npz("x", path=str(tmp_path / "nope.npz"))


def test_npz_directory(tmp_path):
    with pytest.raises(DataError, match=r"is a folder, not a file"):
        npz("x", path=str(tmp_path))


def test_npz_single_npy(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(DataError, match=r"a.npy is a single .npy array, not an .npz archive"):
        npz("x", path=str(path))


def test_npz_corrupt_zip(tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(DataError, match=r"cannot read npz file .*c.npz: BadZipFile"):
        npz("x", path=str(path))


def test_npz_missing_key_lists_keys(tmp_path):
    path = save(tmp_path, images=np.zeros((2, 2, 2)), y=np.array([0, 1]))
    with pytest.raises(DataError) as err:
        npz("x", path=str(path), x_key="image")
    msg = str(err.value)
    assert "d.npz: unknown x array 'image'; did you mean 'images'? (valid: images, y)" in msg
    with pytest.raises(DataError, match=r"unknown x array 'x' \(valid: images, y\)"):
        npz("x", path=str(path))
    with pytest.raises(DataError, match=r"unknown y array 'labels'"):
        npz("x", path=str(path), x_key="images", y_key="labels")


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            np.zeros(4),
            [0, 1, 0, 1],
            r"'x' has shape \(4,\); expected \(N, H, W\) or \(N, C, H, W\)",
        ),
        (np.zeros((2, 1, 2, 2, 2)), [0, 1], r"'x' has shape \(2, 1, 2, 2, 2\)"),
        (np.zeros((3, 2, 2)), [0, 1], r"'x' has 3 samples but 'y' has 2 labels"),
        (np.zeros((2, 0, 2)), [0, 1], r"'x' is empty \(shape \(2, 0, 2\)\)"),
        (np.zeros((2, 8, 8, 3)), [0, 1], r"looks channels-last \(N, H, W, C\); .*np.moveaxis"),
        (np.full((2, 2, 2), 300), [0, 1], r"integer pixels in 'x' must lie in 0..255, found 300"),
        (np.full((2, 2, 2), -1), [0, 1], r"found -1..-1"),
        (np.full((2, 2, 2), np.nan), [0, 1], r"pixels in 'x' hold NaN or infinite values"),
        (np.full((2, 2, 2), "a"), [0, 1], r"dtype <U1; images need integer or float pixels"),
        (np.full((2, 2), "a"), [0, 1], r"dtype <U1; a feature table needs numbers"),
        (np.zeros((2, 2)), [[0, 1], [1, 0]], r"labels 'y' must be 1-D \(N,\), got shape \(2, 2\)"),
        (np.zeros((2, 2)), [1, 1], r"labels 'y' in npz file .*d.npz has 1 class \('1'\)"),
        (np.zeros((2, 2)), [0.5, 1], r"non-integer numbers"),
    ],
)
def test_npz_bad_arrays(tmp_path, x, y, message):
    path = save(tmp_path, x=x, y=np.array(y))
    with pytest.raises(DataError, match=message):
        npz("x", path=str(path))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"x_key": ""}, r"x_key must be an array name"),
        ({"y_key": 3}, r"y_key must be an array name, got 3"),
        ({"x_key": "a", "y_key": "a"}, r"x_key and y_key are both 'a'"),
        ({"path": None}, r"path must be a file path"),
    ],
)
def test_npz_bad_params(tmp_path, params, message):
    with pytest.raises(ConfigError, match=message):
        npz("x", **{"path": str(tmp_path / "d.npz"), **params})


# --- imbalance on images --------------------------------------------------------------------


def _labelled_images(y: np.ndarray) -> np.ndarray:
    """(N, 1, 3, 3) images whose pixels hold their label, except one pixel holding the index."""
    X = np.repeat(y.astype(np.float32), 9).reshape(-1, 1, 3, 3)
    X[:, 0, 2, 2] = np.arange(len(y))
    return X


def test_apply_imbalance_keeps_images_aligned_with_labels():
    y = np.random.default_rng(0).permutation(np.repeat(np.arange(4), 30))
    X = _labelled_images(y)
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ["a", "b", "c", "d"])
    X_out, y_out = apply_imbalance(X, y, spec, seed=3)
    assert isinstance(X_out, np.ndarray) and X_out.shape[1:] == (1, 3, 3)
    assert np.bincount(y_out).tolist() == spec.targets([30, 30, 30, 30]).tolist() == [30, 13, 6, 3]
    assert np.all(X_out[:, 0, :2, :] == y_out[:, None, None])  # each image carries its label
    kept = X_out[:, 0, 2, 2].astype(int)
    assert np.all(np.diff(kept) > 0)  # original order kept
    np.testing.assert_array_equal(y[kept], y_out)
    X_again, _ = apply_imbalance(X, y, spec, seed=3)
    np.testing.assert_array_equal(X_out, X_again)  # same seed, same rows
    X_other, _ = apply_imbalance(X, y, spec, seed=4)
    assert not np.array_equal(X_out[:, 0, 2, 2], X_other[:, 0, 2, 2])


def test_apply_imbalance_on_a_loaded_image_folder(tmp_path):
    root = make_image_folder(tmp_path, ["a", "b", "c"], 6, size=4)
    ds = image_folder("f", path=str(root), size=4)
    spec = parse_imbalance({"counts": {"c": 2, "b": 4}}, ds.class_names)
    X_out, y_out = apply_imbalance(ds.X, ds.y, spec, seed=0)
    assert X_out.shape == (12, 1, 4, 4) and X_out.dtype == np.float32
    assert np.bincount(y_out).tolist() == [6, 4, 2]
    for image, label in zip(X_out, y_out):
        assert np.all(image == gray(int(label)))
