"""MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST, ...) from a folder you point at;
nothing is downloaded.

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a 4-byte big-endian magic
number ``0x0000TTDD`` (``TT`` the element type, ``08`` for unsigned bytes; ``DD`` the number of
dimensions), then one big-endian uint32 per dimension, then the data in C order. Images are
``0x00000803`` (N x H x W unsigned bytes), labels ``0x00000801`` (N unsigned bytes). Files may be
gzip-compressed (recognised by content, not by name). It is parsed here with numpy.

With ``path`` the standard file names are looked up in that folder: ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each with
or without ``.gz``; a prefixed name (``emnist-letters-train-images-idx3-ubyte.gz``) or a dot
before ``idx`` (``train-images.idx3-ubyte``) is found too when it is the only match. EMNIST
stores its images transposed; they are returned as stored.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import class_names_for, encode_labels
from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import path_rule, short

SPLITS = ("train", "test", "all")
_STEMS = {"train": "train", "test": "t10k"}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_TYPES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "short",
    0x0C: "int",
    0x0D: "float",
    0x0E: "double",
}
_GZIP_MAGIC = b"\x1f\x8b"
_LISTED = 8  # files named in a "not found" message


def _read_bytes(file: Path, what: str) -> bytes:
    if not file.exists():
        raise DataError(f"idx {what} file {file} not found")
    if file.is_dir():
        raise DataError(f"idx {what} file {file} is a folder, not a file")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read idx {what} file {file}: {type(exc).__name__}: {exc}") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            reason = " ".join(str(exc).split()) or "truncated"
            raise DataError(
                f"cannot decompress idx {what} file {file}: {type(exc).__name__}: {reason}"
            ) from exc
    return raw


def read_idx(file: Path, what: str) -> np.ndarray:
    """Parse one IDX file of unsigned bytes: ``what`` is "images" (3-D) or "labels" (1-D).

    Every problem (not IDX, wrong type or dimensions, truncated or overlong data, no samples) is
    a DataError naming the file.
    """
    expect_ndim = 3 if what == "images" else 1
    expected = IMAGES_MAGIC if what == "images" else LABELS_MAGIC
    raw = _read_bytes(file, what)
    if len(raw) < 4:
        raise DataError(f"idx {what} file {file} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or code not in _TYPES:
        raise DataError(
            f"idx {what} file {file} is not an IDX file (magic number 0x{magic:08x}; expected "
            f"0x{expected:08x})"
        )
    if magic != expected:
        other = {IMAGES_MAGIC: "an images", LABELS_MAGIC: "a labels"}.get(magic)
        hint = f"; it looks like {other} file: are images and labels swapped?" if other else ""
        raise DataError(
            f"idx {what} file {file} has magic number 0x{magic:08x} ({_TYPES[code]}, {ndim} "
            f"dimensions); expected 0x{expected:08x} (unsigned byte, {expect_ndim} "
            f"dimension{'s' if expect_ndim > 1 else ''}){hint}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"idx {what} file {file} is truncated inside its header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = math.prod(dims)
    have = len(raw) - header
    if have != size:
        shape = " x ".join(str(d) for d in dims)
        problem = "is truncated" if have < size else "has extra bytes after the data"
        raise DataError(
            f"idx {what} file {file} {problem}: its header says {shape} = {size} bytes of "
            f"data, the file holds {have}"
        )
    if dims[0] == 0:
        raise DataError(f"idx {what} file {file} holds no samples")
    if what == "images" and 0 in dims[1:]:
        raise DataError(f"idx images file {file} holds empty images ({dims[1]} x {dims[2]})")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _pattern(stem: str, what: str) -> re.Pattern[str]:
    n = 3 if what == "images" else 1
    return re.compile(rf"^(?:.+[-_])?{stem}-{what}[-.]idx{n}-ubyte(?:\.gz)?$")


def _find(folder: Path, split: str, what: str) -> Path:
    """The ``what`` ("images"/"labels") file of ``split`` in ``folder``: the exact MNIST name
    first (uncompressed before .gz), else the one file matching a prefixed or dotted variant."""
    stem = _STEMS[split]
    base = f"{stem}-{what}-idx{3 if what == 'images' else 1}-ubyte"
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    names = sorted(e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith("."))
    pattern = _pattern(stem, what)
    matches = [n for n in names if pattern.match(n)]
    if len(matches) == 1:
        return folder / matches[0]
    if matches:
        raise DataError(
            f"idx folder {folder} has several {split} {what} files ({', '.join(matches)}); "
            "choose with images and labels"
        )
    shown = ", ".join(names[:_LISTED]) + (", ..." if len(names) > _LISTED else "")
    other = "test" if split == "train" else "train"
    has_other = any(_pattern(_STEMS[other], what).match(n) for n in names)
    raise DataError(
        f"idx folder {folder} has no {base}[.gz] for split {split} (files: {shown or 'none'})"
        + (f"; set split: {other}" if has_other else "")
    )


def _class_names(class_names: Any) -> list[str] | None:
    if class_names is None:
        return None
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, (list, tuple)):
        raise ConfigError(f"idx: class_names must be a list of names, got {short(class_names)}")
    names = [str(n) for n in class_names]
    if len(names) < 2:
        raise ConfigError(f"idx: class_names needs at least 2 names, got {len(names)}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"idx: class_names repeats {', '.join(duplicates)}")
    return names


def _file(value: Any, base: Path | None, key: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"idx: {key} must be a file path, got {short(value)}")
    file = Path(os.path.expanduser(str(value)))
    return base / file if base is not None and not file.is_absolute() else file


def _options(
    split: str, class_names: Any, limit: Any, path: Any
) -> tuple[list[str] | None, Path | None]:
    """Check split, class_names, limit and path in that order; the names and the folder."""
    if split not in SPLITS:
        raise ConfigError(unknown("idx split", str(split), SPLITS))
    names = _class_names(class_names)
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1
    ):
        raise ConfigError(f"idx: limit must be a positive integer or null, got {short(limit)}")
    if path is not None and (not isinstance(path, (str, os.PathLike)) or not str(path)):
        raise ConfigError(f"idx: path must be a folder path, got {short(path)}")
    return names, Path(os.path.expanduser(str(path))) if path is not None else None


def _pairs(
    folder: Path | None, split: str, images: str | None, labels: str | None
) -> list[tuple[str, Path, Path]]:
    """(split, images file, labels file) to read: the files given, or MNIST names in ``folder``."""
    if images is not None or labels is not None:
        if images is None or labels is None:
            missing = "images" if images is None else "labels"
            raise ConfigError(f"idx: give images and labels together ({missing} is missing)")
        if split != "all":
            raise ConfigError(
                "idx: split picks the standard MNIST file names; with images and labels, drop it"
            )
        if folder is not None and not folder.is_dir():
            raise DataError(f"idx folder {folder} not found")
        return [("files", _file(images, folder, "images"), _file(labels, folder, "labels"))]
    if folder is None:
        raise ConfigError(
            "idx: give path (a folder with MNIST-style files), or images and labels files"
        )
    if not folder.exists():
        raise DataError(f"idx folder {folder} not found")
    if not folder.is_dir():
        raise DataError(
            f"idx folder {folder} is a file; give its folder as path, or give images and labels"
        )
    parts = ("train", "test") if split == "all" else (split,)
    return [(part, _find(folder, part, "images"), _find(folder, part, "labels")) for part in parts]


def _where(folder: Path | None, split: str, images: str | None) -> str:
    """What the description names: the images file, or the folder and split."""
    if images is not None:
        return Path(str(images)).name
    assert folder is not None  # _pairs refuses a load with neither path nor files
    return f"{folder.name} ({split})"


def _read_pairs(
    pairs: list[tuple[str, Path, Path]], limit: int | None
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """All pairs' images and labels in order (the first ``limit``), and each pair's sample count."""
    xs, ys, sizes = [], [], {}
    for part, images_file, labels_file in pairs:
        x = read_idx(images_file, "images")
        t = read_idx(labels_file, "labels")
        if x.shape[0] != t.shape[0]:
            raise DataError(
                f"idx images file {images_file} holds {x.shape[0]} images but labels file "
                f"{labels_file} holds {t.shape[0]} labels"
            )
        if xs and x.shape[1:] != xs[0].shape[1:]:
            raise DataError(
                f"idx images file {images_file} holds {x.shape[1]}x{x.shape[2]} images, "
                f"{pairs[0][1]} holds {xs[0].shape[1]}x{xs[0].shape[2]}"
            )
        xs.append(x)
        ys.append(t)
        sizes[part] = int(x.shape[0])
    raw_x = xs[0] if len(xs) == 1 else np.concatenate(xs)
    raw_y = ys[0] if len(ys) == 1 else np.concatenate(ys)
    if limit is not None:
        raw_x, raw_y = raw_x[: int(limit)], raw_y[: int(limit)]
    return raw_x, raw_y, sizes


def _encode(
    raw_y: np.ndarray, names: list[str] | None, label_files: str
) -> tuple[np.ndarray, list[int], tuple[str, ...], list[str]]:
    """Labels as 0..C-1 over the values present: y, those values, class names, names absent."""
    if names is None:
        y, present = encode_labels(raw_y, what=f"idx labels in {label_files}")
        return y, [int(v) for v in present], class_names_for(present), []
    values = np.unique(raw_y)
    if int(values[-1]) >= len(names):
        raise DataError(
            f"idx labels file {label_files} holds label {int(values[-1])} but class_names "
            f"has {len(names)} names (labels 0..{len(names) - 1})"
        )
    if len(values) < 2:
        raise DataError(
            f"idx labels in {label_files} have 1 class ({names[int(values[0])]!r}); "
            "need at least 2"
        )
    present = [int(v) for v in values]
    absent = [n for i, n in enumerate(names) if i not in present]
    y = np.searchsorted(values, raw_y).astype(np.int64)
    return y, present, tuple(names[v] for v in present), absent


@SOURCES.register("idx", rules={
    "path": path_rule("folder", nullable=True),
    "images": path_rule("file", nullable=True, base="path"),
    "labels": path_rule("file", nullable=True, base="path")})
def load(
    name: str,
    *,
    path: str | None = None,
    split: str = "all",
    images: str | None = None,
    labels: str | None = None,
    class_names: list[str] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load MNIST-format IDX files (MNIST, Fashion-MNIST, EMNIST) as images (N, 1, H, W).

    Pixels are float32 in [0, 1] (bytes / 255).

    ``path`` is a folder holding the standard MNIST file names; ``split`` picks ``train``
    (``train-*``), ``test`` (``t10k-*``) or ``all`` (both, train first). Instead, ``images`` and
    ``labels`` name the two files (relative to ``path`` when it is given). ``class_names[i]``
    names label value ``i`` (e.g. Fashion-MNIST's "T-shirt/top", "Trouser", ...); without it
    classes are named by their label values. Classes are the label values present, in order.
    ``limit`` keeps the first that many samples in file order. Each problem with a file (not
    found, not IDX, wrong magic number, truncated, image and label counts differ) is one
    DataError line naming it.
    """
    names, folder = _options(split, class_names, limit, path)
    pairs = _pairs(folder, split, images, labels)
    raw_x, raw_y, sizes = _read_pairs(pairs, limit)
    y, present, classes, absent = _encode(raw_y, names, ", ".join(str(p[2]) for p in pairs))
    X = (raw_x.astype(np.float32) / np.float32(255.0))[:, np.newaxis, :, :]
    h, w = X.shape[2], X.shape[3]
    where = _where(folder, split, images)
    return Dataset(
        name=name,
        X=np.ascontiguousarray(X),
        y=y,
        class_names=classes,
        source="idx",
        kind="image",
        description=f"{where}: {len(y)} {h}x{w} grayscale images, local IDX files",
        meta={
            "files": {part: {"images": str(i), "labels": str(t)} for part, i, t in pairs},
            "split": split if images is None else None,
            "split_sizes": sizes,
            "limit": None if limit is None else int(limit),
            "image_shape": [1, int(h), int(w)],
            "labels": present,
            "absent_classes": absent,
        },
    )
