"""Your own arrays from a NumPy ``.npz`` archive (``np.savez(path, x=images, y=labels)``).

The archive is opened with ``allow_pickle=False``: dflbench never unpickles a file, so object
arrays are refused. What ``x`` holds decides the kind of dataset:

- (N, H, W): grayscale images, given a channel axis -> (N, 1, H, W);
- (N, C, H, W): images with channels first, kept as they are (channels-last arrays
  (N, H, W, C) must be transposed first: ``np.moveaxis(x, -1, 1)``);
- (N, F): a *tabular* dataset (``kind="tabular"``), columns ``x0..x{F-1}``, values unchanged
  (the preprocessor scales them; missing values are allowed and imputed).

Image pixels become float32: integer pixels must lie in 0..255 and are divided by 255; float
pixels are kept as they are (scale them to [0, 1] yourself) but must be finite. Labels in ``y``
(integers, whole-number floats or strings) are numbered in sorted order of their values.

With ``mask_key`` the archive is a *segmentation* dataset instead: ``x`` holds images and the
``mask_key`` array integer masks (N, H, W) of pixel classes 0..C-1 (``np.savez(path, x=images,
masks=masks)``); there is no ``y`` (each image's stratum comes from its mask). Pixels equal to
``ignore_index`` are ignored (-1 inside dflbench). Classes are named by ``class_names``, or
"0".."C-1" with C one more than the largest class value present.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import class_names_for, encode_labels, frame
from dflbench.datasets._segmentation import segmentation_dataset
from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import Rule, path_rule, short

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member, or an empty archive
_NPY_MAGIC = b"\x93NUMPY"


def _open(file: Path) -> Any:
    if not file.exists():
        raise DataError(f"npz file {file} not found")
    if file.is_dir():
        raise DataError(f"npz file {file} is a folder, not a file")
    try:
        with open(file, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise DataError(f"cannot read npz file {file}: {type(exc).__name__}: {exc}") from exc
    if head.startswith(_NPY_MAGIC):
        raise DataError(
            f"npz file {file} is a single .npy array, not an .npz archive; save x and y together "
            "with np.savez"
        )
    if not head.startswith(_ZIP_MAGIC):
        # np.load would call anything else "pickled data"; say what it is not instead.
        raise DataError(f"npz file {file} is not an .npz archive (write one with np.savez)")
    try:
        archive = np.load(file, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"cannot read npz file {file}: {type(exc).__name__}: {reason}") from exc
    return archive


def _array(archive: Any, file: Path, key: str, what: str) -> np.ndarray:
    keys = list(archive.files)
    if key not in keys:
        raise DataError(f"npz file {file}: " + unknown(f"{what} array", key, keys))
    try:
        return np.asarray(archive[key])
    except ValueError as exc:
        if "pickle" in str(exc):  # an object array: reading it would mean unpickling
            raise DataError(
                f"npz file {file}: array '{key}' holds Python objects, which dflbench never "
                "unpickles; save a numeric (or string) array"
            ) from exc
        reason = " ".join(str(exc).split())
        raise DataError(
            f"cannot read array '{key}' of npz file {file}: ValueError: {reason}"
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(
            f"cannot read array '{key}' of npz file {file}: {type(exc).__name__}: {reason}"
        ) from exc


def _pixels(x: np.ndarray, file: Path, key: str) -> tuple[np.ndarray, str]:
    """Image pixels as float32 and how they were scaled."""
    if x.dtype == np.bool_:
        return x.astype(np.float32), "bool as 0/1"
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(
                f"npz file {file}: integer pixels in '{key}' must lie in 0..255, found {lo}..{hi}; "
                "save uint8 pixels or floats scaled to [0, 1]"
            )
        return x.astype(np.float32) / np.float32(255.0), "/255"
    if np.issubdtype(x.dtype, np.floating):
        out = x.astype(np.float32)
        if not np.all(np.isfinite(out)):
            raise DataError(f"npz file {file}: pixels in '{key}' hold NaN or infinite values")
        return out, "none"
    raise DataError(
        f"npz file {file}: array '{key}' has dtype {x.dtype}; images need integer or float pixels"
    )


def _check_options(path: str, x_key: str, y_key: str) -> Path:
    """``path`` as a file, once it and the two array names are checked."""
    for key, value in (("x_key", x_key), ("y_key", y_key)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"npz: {key} must be an array name, got {short(value)}")
    if x_key == y_key:
        raise ConfigError(f"npz: x_key and y_key are both '{x_key}'")
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"npz: path must be a file path, got {short(path)}")
    return Path(os.path.expanduser(str(path)))


def _check_shapes(
    x: np.ndarray, labels: np.ndarray, file: Path, x_key: str, y_key: str
) -> np.ndarray:
    """Refuse shapes ``x`` and ``labels`` cannot have together; the labels as a 1-D array."""
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(
            f"npz file {file}: labels '{y_key}' must be 1-D (N,), got shape {labels.shape}"
        )
    if x.ndim not in (2, 3, 4):
        raise DataError(
            f"npz file {file}: '{x_key}' has shape {x.shape}; expected (N, H, W) or (N, C, H, W) "
            "images, or an (N, F) feature table"
        )
    if x.shape[0] != labels.shape[0]:
        raise DataError(
            f"npz file {file}: '{x_key}' has {x.shape[0]} samples but '{y_key}' has "
            f"{labels.shape[0]} labels"
        )
    if x.shape[0] == 0 or 0 in x.shape[1:]:
        raise DataError(f"npz file {file}: '{x_key}' is empty (shape {x.shape})")
    if x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        raise DataError(
            f"npz file {file}: '{x_key}' of shape {x.shape} looks channels-last (N, H, W, C); "
            "save it channels-first with np.moveaxis(x, -1, 1)"
        )
    return labels


def _table(x: np.ndarray, file: Path, x_key: str) -> tuple[pd.DataFrame, str]:
    """A 2-D ``x`` as a feature table, and its description."""
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise DataError(
            f"npz file {file}: '{x_key}' has dtype {x.dtype}; a feature table needs numbers"
        )
    return frame(x), f"{file.name}: {x.shape[0]} rows x {x.shape[1]} features, local npz file"


def _images(x: np.ndarray, file: Path, x_key: str) -> tuple[np.ndarray, str, str]:
    """A 3-D or 4-D ``x`` as float32 images (N, C, H, W), its scaling, and its description."""
    X, scaling = _pixels(x[:, np.newaxis] if x.ndim == 3 else x, file, x_key)
    n, c, h, w = X.shape
    description = f"{file.name}: {n} images {c}x{h}x{w} (C x H x W), local npz file"
    return np.ascontiguousarray(X), scaling, description


def _check_segmentation_options(path: str, x_key: str, y_key: str | None, mask_key: Any,
                                class_names: Any, ignore_index: Any) -> Path:
    """``path`` as a file once the options of a segmentation archive are checked."""
    if y_key is not None:
        raise ConfigError(
            f"npz: y_key ('{y_key}') is not used with mask_key: each image's stratum comes "
            "from its mask; remove y_key"
        )
    if not isinstance(mask_key, str) or not mask_key:
        raise ConfigError(f"npz: mask_key must be an array name, got {short(mask_key)}")
    if mask_key == x_key:
        raise ConfigError(f"npz: x_key and mask_key are both '{x_key}'")
    if class_names is not None:
        names = [str(n) for n in class_names]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ConfigError(
                f"npz: class_names needs at least 2 distinct names, got {short(class_names)}"
            )
    if ignore_index is not None and (isinstance(ignore_index, bool)
                                     or not isinstance(ignore_index, (int, np.integer))):
        raise ConfigError(f"npz: ignore_index must be an integer or null, got {short(ignore_index)}")
    return _check_options(path, x_key, mask_key)


def _segmentation(name: str, file: Path, x: np.ndarray, masks: np.ndarray, x_key: str,
                  mask_key: str, class_names: list[str] | None,
                  ignore_index: int | None) -> Dataset:
    if x.ndim not in (3, 4):
        raise DataError(
            f"npz file {file}: '{x_key}' has shape {x.shape}; segmentation needs images "
            "(N, H, W) or (N, C, H, W)"
        )
    if masks.ndim == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    h, w = x.shape[-2:]
    if masks.ndim != 3 or masks.shape != (x.shape[0], h, w):
        raise DataError(
            f"npz file {file}: masks '{mask_key}' have shape {masks.shape}; expected "
            f"({x.shape[0]}, {h}, {w}) to match images '{x_key}' of shape {x.shape}"
        )
    if x.shape[0] == 0 or 0 in x.shape[1:]:
        raise DataError(f"npz file {file}: '{x_key}' is empty (shape {x.shape})")
    if masks.dtype == np.bool_:
        masks = masks.astype(np.int64)
    what = f"npz file {file}: masks '{mask_key}'"
    if not np.issubdtype(masks.dtype, np.integer):
        raise DataError(f"{what} have dtype {masks.dtype}; masks need integer class indices")
    if class_names is not None:
        names = [str(n) for n in class_names]
        if ignore_index is not None and 0 <= ignore_index < len(names):
            raise ConfigError(f"npz: ignore_index {ignore_index} is class '{names[ignore_index]}'; "
                              f"an ignore index must lie outside 0..{len(names) - 1}")
    else:
        labelled = masks if ignore_index is None else masks[masks != ignore_index]
        if labelled.size and labelled.min() < 0:
            raise DataError(f"{what} hold the negative value {int(labelled.min())}; classes are "
                            "0..C-1: set ignore_index if it marks ignored pixels")
        n = int(labelled.max()) + 1 if labelled.size else 0
        if ignore_index is not None and 0 <= ignore_index < n:
            raise ConfigError(f"npz: ignore_index {ignore_index} lies among the mask's classes "
                              f"0..{n - 1}; an ignore index must lie outside them")
        names = [str(c) for c in range(n)]
        if n < 2:
            raise DataError(f"{what} hold {n} class(es); need at least 2")
    X, scaling, _ = _images(x, file, x_key)
    return segmentation_dataset(
        name, X, masks, names,
        source="npz",
        description=f"{file.name}: {X.shape[0]} images {X.shape[1]}x{X.shape[2]}x{X.shape[3]} "
        f"(C x H x W) with masks of {len(names)} classes, local npz file",
        meta={
            "path": str(file.resolve()),
            "x_key": x_key,
            "mask_key": mask_key,
            "shape": [int(d) for d in x.shape],
            "dtype": str(x.dtype),
            "scaling": scaling,
        },
        ignore_index=None if ignore_index is None else int(ignore_index),
    )


@SOURCES.register("npz", rules={
    "path": path_rule("file"),
    "class_names": Rule(list, items=Rule(str, min_len=1), min_len=2, nullable=True),
    "ignore_index": Rule(int, nullable=True),
})
def load(
    name: str,
    *,
    path: str,
    x_key: str = "x",
    y_key: str | None = None,
    mask_key: str | None = None,
    class_names: list[str] | None = None,
    ignore_index: int | None = None,
) -> Dataset:
    """Load images or a feature table and labels from a NumPy ``.npz`` archive (no pickles).

    Arrays ``x_key`` (samples) and ``y_key`` (labels, default ``y``) are read with
    ``allow_pickle=False``.

    ``x`` of shape (N, H, W) or (N, C, H, W) is an image dataset (float32 (N, C, H, W); uint8
    pixels / 255, floats kept); ``x`` of shape (N, F) is a tabular dataset (a DataFrame with
    columns x0..). ``y`` is 1-D (or (N, 1)). A missing file or key (the message lists the keys
    present), a bad shape and a length mismatch are each one DataError line.

    With ``mask_key`` the archive is a segmentation dataset: that array holds integer masks
    (N, H, W) of pixel classes for the images in ``x`` (no ``y_key``); ``class_names`` names the
    classes (default "0".."C-1") and mask pixels equal to ``ignore_index`` are ignored.
    """
    if mask_key is not None:
        file = _check_segmentation_options(path, x_key, y_key, mask_key, class_names,
                                           ignore_index)
        with _open(file) as archive:
            x = _array(archive, file, x_key, "x")
            masks = _array(archive, file, mask_key, "mask")
        return _segmentation(name, file, x, masks, x_key, mask_key, class_names, ignore_index)
    for key, value in (("class_names", class_names), ("ignore_index", ignore_index)):
        if value is not None:
            raise ConfigError(f"npz: {key} is for segmentation masks; give mask_key with it")
    return _labelled(name, path, x_key, "y" if y_key is None else y_key)


def _labelled(name: str, path: str, x_key: str, y_key: str) -> Dataset:
    """Images or a feature table with one label per sample."""
    file = _check_options(path, x_key, y_key)
    with _open(file) as archive:
        x = _array(archive, file, x_key, "x")
        labels = _array(archive, file, y_key, "y")
    labels = _check_shapes(x, labels, file, x_key, y_key)
    y, values = encode_labels(labels, what=f"labels '{y_key}' in npz file {file}")
    meta: dict[str, Any] = {
        "path": str(file.resolve()),
        "x_key": x_key,
        "y_key": y_key,
        "shape": [int(d) for d in x.shape],
        "dtype": str(x.dtype),
        "labels": values,
    }
    X: pd.DataFrame | np.ndarray
    if x.ndim == 2:
        kind = "tabular"
        X, description = _table(x, file, x_key)
    else:
        kind = "image"
        X, scaling, description = _images(x, file, x_key)
        meta.update(image_shape=[int(d) for d in X.shape[1:]], scaling=scaling)
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=class_names_for(values),
        source="npz",
        kind=kind,
        description=description,
        meta=meta,
    )
