"""Your own images: one sub-folder per class of PNG/JPEG files, laid out like torchvision's
``ImageFolder``::

    path/
      cat/  001.png  002.jpg  more/003.jpeg
      dog/  a.png ...

Class names are the sub-folder names, sorted, and class ``i`` is the ``i``-th of them. Images are
found recursively inside each class folder and read in sorted order of their relative paths, so
a load is deterministic. Only ``.png``, ``.jpg`` and ``.jpeg`` files (any letter case) count;
other files are ignored (their number is in ``meta['ignored_files']``), and so is every hidden
file or folder (name starting with ``.``). Every image is converted to ``mode`` and resized to
``size`` with Pillow's bilinear filter, then scaled to [0, 1] (8-bit pixels / 255; 16-bit
grayscale PNGs / 65535). EXIF orientation tags are not applied (as in torchvision).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dflbench.datasets import SOURCES, Dataset
from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import path_rule, short

MODES = ("grayscale", "rgb")
EXTENSIONS = (".png", ".jpg", ".jpeg")
# Pillow modes whose pixels are 16-bit (or wider) integers rather than bytes: converting them to
# "L" would clip at 255 instead of scaling, so they are scaled by hand.
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _size(size: Any, source: str = "image_folder") -> tuple[int, int]:
    """``size`` as (height, width): an int for a square or a list [height, width]; ``source``
    names the source in the message."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        values = [size]
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        values = list(size)
    else:
        values = []
    ok = bool(values) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values
    )
    if not ok:
        raise ConfigError(
            f"{source}: size must be a positive integer or a list [height, width], got {short(size)}"
        )
    h, w = (values[0], values[0]) if len(values) == 1 else values
    return int(h), int(w)


def _class_folders(root: Path) -> list[Path]:
    if not root.exists():
        raise DataError(f"image folder {root} not found")
    if not root.is_dir():
        raise DataError(f"image folder {root} is a file, not a folder of class sub-folders")
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"cannot list image folder {root}: {type(exc).__name__}: {exc}") from exc
    folders = [Path(e.path) for e in entries if e.is_dir() and not _hidden(e.name)]
    if not folders:
        raise DataError(
            f"image folder {root} has no class sub-folders; put each class's PNG/JPEG files in "
            "a sub-folder named after the class"
        )
    if len(folders) < 2:
        raise DataError(
            f"image folder {root} has 1 class sub-folder ('{folders[0].name}'); need at least 2"
        )
    return folders


def _images_in(folder: Path) -> tuple[list[Path], int]:
    """Image files under ``folder`` (recursively, sorted by relative path) and the number of
    other visible files ignored."""
    found: list[str] = []
    ignored = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        for fname in filenames:
            if _hidden(fname):
                continue
            if os.path.splitext(fname)[1].lower() in EXTENSIONS:
                found.append(os.path.relpath(os.path.join(dirpath, fname), folder))
            else:
                ignored += 1
    found.sort(key=lambda rel: Path(rel).parts)
    return [folder / rel for rel in found], ignored


def _read(file: Path, mode: str, hw: tuple[int, int]) -> np.ndarray:
    """One image as float32 (C, H, W) in [0, 1]."""
    from PIL import Image

    h, w = hw
    try:
        with Image.open(file) as im:
            im.load()
            if im.mode in _WIDE_MODES or im.mode == "F":
                # 16-bit grayscale: scale to [0, 1] in float ("F") before resizing.
                scale = 1.0 if im.mode == "F" else 65535.0
                arr = np.asarray(im, dtype=np.float32) / np.float32(scale)
                gray = Image.fromarray(np.clip(arr, 0.0, 1.0).astype(np.float32))  # mode "F"
                if gray.size != (w, h):
                    gray = gray.resize((w, h), Image.Resampling.BILINEAR)
                out = np.clip(np.asarray(gray, dtype=np.float32), 0.0, 1.0)[np.newaxis]
                return np.repeat(out, 3, axis=0) if mode == "rgb" else out
            converted = im.convert("L" if mode == "grayscale" else "RGB")
            if converted.size != (w, h):
                converted = converted.resize((w, h), Image.Resampling.BILINEAR)
            pixels = np.asarray(converted, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        reason = " ".join(str(exc).split()) or "unreadable"
        raise DataError(f"cannot read image {file}: {type(exc).__name__}: {reason}") from exc
    out = pixels.astype(np.float32) / np.float32(255.0)
    return out[np.newaxis] if out.ndim == 2 else np.moveaxis(out, -1, 0)


def _options(
    mode: Any, size: Any, max_per_class: Any, path: Any
) -> tuple[str, tuple[int, int], Path]:
    """Check mode, size, max_per_class and path in that order; mode, (height, width), folder."""
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ConfigError(unknown("image_folder mode", str(mode), MODES))
    hw = _size(size)
    if max_per_class is not None and (
        isinstance(max_per_class, bool)
        or not isinstance(max_per_class, (int, np.integer))
        or max_per_class < 1
    ):
        raise ConfigError(
            f"image_folder: max_per_class must be a positive integer or null, got {short(max_per_class)}"
        )
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"image_folder: path must be a folder path, got {short(path)}")
    # Any letter case: "RGB" is how Pillow spells it.
    return mode.lower(), hw, Path(os.path.expanduser(str(path)))


def _labelled_files(
    root: Path, folders: list[Path], max_per_class: int | None
) -> tuple[list[tuple[Path, int]], dict[str, int], int]:
    """(image file, label) of every image kept, images kept per class, other files ignored."""
    files: list[tuple[Path, int]] = []
    per_class: dict[str, int] = {}
    ignored = 0
    for label, folder in enumerate(folders):
        images, skipped = _images_in(folder)
        ignored += skipped
        if not images:
            raise DataError(
                f"image folder {root}: class folder '{folder.name}' has no images "
                f"({', '.join(EXTENSIONS)} files)"
            )
        if max_per_class is not None:
            images = images[: int(max_per_class)]
        per_class[folder.name] = len(images)
        files.extend((f, label) for f in images)
    return files, per_class, ignored


@SOURCES.register("image_folder", rules={"path": path_rule("folder")})
def load(
    name: str,
    *,
    path: str,
    size: int | list[int] = 32,
    mode: str = "grayscale",
    max_per_class: int | None = None,
) -> Dataset:
    """Load a folder of PNG/JPEG images, one sub-folder per class, as images (N, C, H, W).

    The layout is torchvision's ``ImageFolder``; pixels are float32 in [0, 1].

    ``size`` is an int (square) or ``[height, width]``; every image is resized to it (bilinear).
    ``mode`` is ``grayscale`` (C=1, ITU-R 601 luma) or ``rgb`` (C=3), in any letter case.
    ``max_per_class`` keeps the first that many images of each class in sorted file order (use an
    ``imbalance`` profile for random, seeded subsampling). A missing folder, fewer than two class
    folders, a class folder without images and an unreadable image (named) are each one DataError
    line.
    """
    mode, hw, root = _options(mode, size, max_per_class, path)
    folders = _class_folders(root)
    files, per_class, ignored = _labelled_files(root, folders, max_per_class)
    channels = 1 if mode == "grayscale" else 3
    X = np.empty((len(files), channels, *hw), dtype=np.float32)
    for i, (file, _) in enumerate(files):
        X[i] = _read(file, mode, hw)
    y = np.array([label for _, label in files], dtype=np.int64)
    class_names = tuple(f.name for f in folders)
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=class_names,
        source="image_folder",
        kind="image",
        description=f"{root.name}: {len(folders)} classes of {mode} images resized to "
        f"{hw[0]}x{hw[1]}, local image folder",
        meta={
            "path": str(root.resolve()),
            "image_shape": [channels, *hw],
            "mode": mode,
            "max_per_class": None if max_per_class is None else int(max_per_class),
            "images_per_class": per_class,
            "ignored_files": ignored,
            "labels": list(class_names),
        },
    )
