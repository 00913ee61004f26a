"""Your own segmentation data: images and their masks paired by file name, laid out like CamVid::

    path/
      classes.txt        one class name per line: line i names class i
      images/  0001.png  0002.jpg ...
      masks/   0001.png  0002.png ...

An image and its mask share a file stem (``0001``). Images are PNG or JPEG (any letter case); masks
are single-channel PNGs of class indices (palette "P", grayscale "L", 16-bit or 1-bit), never
colour-coded RGB. A mask pixel equal to ``ignore_index`` (default 255, PASCAL VOC's void) is
ignored (-1 inside dflbench); any other value must be a class 0..C-1. Hidden files (name starting
with ``.``) are skipped; other files and sub-folders are ignored (counted in
``meta['ignored_files']``). Pairs are read in sorted order of their stems, so a load is
deterministic.

Images become float32 (N, C, H, W) in [0, 1] as ``image_folder`` reads them (``mode`` grayscale or
rgb; 8-bit / 255). With ``size`` every pair is resized: the image bilinearly, the mask with the
nearest pixel (a class index is never blended); without it every image must have the same size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._segmentation import check_mask_values, segmentation_dataset
from dflbench.datasets.image_folder import EXTENSIONS, MODES, _read, _size
from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import Rule, path_rule, short

CLASSES_FILE = "classes.txt"
MASK_EXTENSIONS = (".png",)
#: Pillow modes a mask may have: one channel of integer class indices.
_MASK_MODES = ("P", "L", "1", "I", "I;16", "I;16B", "I;16L", "I;16N")
_SHOWN = 5  # file names listed in one message


def _names(paths: list[str]) -> str:
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more


def _listing(folder: Path, root: Path, what: str,
             extensions: tuple[str, ...]) -> tuple[dict[str, Path], int]:
    """Files of ``folder`` with one of ``extensions`` by stem, and the other entries ignored."""
    if not folder.is_dir():
        kind = "is a file, not a folder" if folder.exists() else "is missing"
        raise DataError(
            f"segmentation folder {root}: '{folder.name}/' {kind}; put the {what} in "
            f"{root / folder.name}"
        )
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"cannot list {folder}: {type(exc).__name__}: {exc}") from exc
    found: dict[str, Path] = {}
    ignored = 0
    for entry in entries:
        if entry.name.startswith("."):
            continue
        stem, ext = os.path.splitext(entry.name)
        if not entry.is_file() or ext.lower() not in extensions:
            ignored += 1
            continue
        if stem in found:
            raise DataError(
                f"segmentation folder {root}: {folder.name}/ holds both {found[stem].name} and "
                f"{entry.name}; keep one file per stem"
            )
        found[stem] = Path(entry.path)
    return found, ignored


def _pairs(root: Path) -> tuple[list[tuple[str, Path, Path]], int]:
    """(stem, image, mask) of every pair, sorted by stem, and the files ignored."""
    if not root.exists():
        raise DataError(f"segmentation folder {root} not found")
    if not root.is_dir():
        raise DataError(f"segmentation folder {root} is a file, not a folder")
    images, skipped_images = _listing(root / "images", root, "images", EXTENSIONS)
    masks, skipped_masks = _listing(root / "masks", root, "masks (PNG)", MASK_EXTENSIONS)
    lonely = sorted(images.keys() - masks.keys())
    if lonely:
        raise DataError(
            f"segmentation folder {root}: {len(lonely)} image(s) without a mask: "
            f"{_names([images[s].name for s in lonely])} (expected masks/<stem>.png)"
        )
    orphans = sorted(masks.keys() - images.keys())
    if orphans:
        raise DataError(
            f"segmentation folder {root}: {len(orphans)} mask(s) without an image: "
            f"{_names([masks[s].name for s in orphans])}"
        )
    if not images:
        raise DataError(
            f"segmentation folder {root}: images/ and masks/ hold no pairs of files "
            f"(images {', '.join(EXTENSIONS)}; masks .png)"
        )
    return [(s, images[s], masks[s]) for s in sorted(images)], skipped_images + skipped_masks


def _class_names(root: Path, class_names: list[str] | None) -> tuple[list[str], str]:
    """The class names and where they came from."""
    if class_names is not None:
        return [str(n) for n in class_names], "parameter class_names"
    file = root / CLASSES_FILE
    if not file.is_file():
        raise DataError(
            f"segmentation folder {root} has no {CLASSES_FILE}; write one (line i names class i) "
            "or give class_names"
        )
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {file}: {type(exc).__name__}: {exc}") from exc
    while lines and not lines[-1].strip():
        lines.pop()
    names = [line.strip() for line in lines]
    if "" in names:
        raise DataError(f"{file}: line {names.index('') + 1} is empty; line i names class i")
    if len(names) < 2:
        raise DataError(f"{file} names {len(names)} class(es); need at least 2")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"{file} repeats {', '.join(duplicates)}")
    return names, str(file.resolve())


def _dims(file: Path) -> tuple[int, int]:
    """(height, width) of an image file, read from its header."""
    from PIL import Image

    try:
        with Image.open(file) as im:
            w, h = im.size
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        reason = " ".join(str(exc).split()) or "unreadable"
        raise DataError(f"cannot read image {file}: {type(exc).__name__}: {reason}") from exc
    return h, w


def _mask(file: Path, hw: tuple[int, int]) -> np.ndarray:
    """One mask's raw class indices (H, W) as int64, resized to ``hw`` with the nearest pixel."""
    from PIL import Image

    h, w = hw
    try:
        with Image.open(file) as im:
            im.load()
            if im.mode not in _MASK_MODES:
                raise DataError(
                    f"mask {file} is a {im.mode} image; a mask must be one channel of class "
                    "indices (a palette or grayscale PNG), not colours"
                )
            if im.size != (w, h):
                im = im.resize((w, h), Image.Resampling.NEAREST)
            return np.asarray(im).astype(np.int64)
    except DataError:  # a ValueError too, already saying what is wrong
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        reason = " ".join(str(exc).split()) or "unreadable"
        raise DataError(f"cannot read mask {file}: {type(exc).__name__}: {reason}") from exc


def _options(path: Any, size: Any, mode: Any, class_names: Any,
             ignore_index: Any) -> tuple[Path, tuple[int, int] | None, str]:
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ConfigError(unknown("segmentation_folder mode", str(mode), MODES))
    hw = None if size is None else _size(size, "segmentation_folder")
    if class_names is not None:
        names = [str(n) for n in class_names]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if len(names) < 2 or duplicates:
            raise ConfigError(
                "segmentation_folder: class_names needs at least 2 distinct names, got "
                f"{short(class_names)}"
            )
    if ignore_index is not None and (isinstance(ignore_index, bool)
                                     or not isinstance(ignore_index, (int, np.integer))):
        raise ConfigError(f"segmentation_folder: ignore_index must be an integer or null, got "
                          f"{short(ignore_index)}")
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"segmentation_folder: path must be a folder path, got {short(path)}")
    return Path(os.path.expanduser(str(path))), hw, mode.lower()


def _common_size(root: Path, pairs: list[tuple[str, Path, Path]],
                 hw: tuple[int, int] | None) -> tuple[int, int]:
    """Check each image against its mask; the size to load at (``hw``, or the one all share)."""
    first: tuple[str, tuple[int, int]] | None = None
    for _, image, mask in pairs:
        dims, mask_dims = _dims(image), _dims(mask)
        if dims != mask_dims:
            raise DataError(
                f"segmentation folder {root}: image {image.name} is {dims[0]}x{dims[1]} (H x W) "
                f"but its mask {mask.name} is {mask_dims[0]}x{mask_dims[1]}"
            )
        if hw is None and first is None:
            first = (image.name, dims)
        elif hw is None and first is not None and dims != first[1]:
            raise DataError(
                f"segmentation folder {root}: images differ in size ({first[0]} is "
                f"{first[1][0]}x{first[1][1]}, {image.name} is {dims[0]}x{dims[1]}, H x W); "
                "give size to resize them"
            )
    return hw if hw is not None else first[1]  # type: ignore[index]


@SOURCES.register("segmentation_folder", rules={
    "path": path_rule("folder"),
    "class_names": Rule(list, items=Rule(str, min_len=1), min_len=2, nullable=True),
    "ignore_index": Rule(int, ge=0, nullable=True),
})
def load(
    name: str,
    *,
    path: str,
    size: int | list[int] | None = None,
    mode: str = "rgb",
    class_names: list[str] | None = None,
    ignore_index: int | None = 255,
) -> Dataset:
    """Load images and their segmentation masks from ``path/images`` and ``path/masks``.

    Pairs share a file stem; masks are single-channel PNGs of class indices 0..C-1. Class names
    come from ``path/classes.txt`` (line i names class i) unless ``class_names`` is given. Mask
    pixels equal to ``ignore_index`` (default 255; null: none) are ignored. ``size`` (an int or
    ``[height, width]``) resizes images bilinearly and masks with the nearest pixel; without it
    all images must share one size. ``mode`` is ``rgb`` (default) or ``grayscale``. Missing
    folders, an image without a mask or a mask without an image (named), a mask value that is no
    class (file and value named), an image and mask of different sizes and an empty folder are
    each one DataError line.
    """
    root, hw, mode = _options(path, size, mode, class_names, ignore_index)
    pairs, ignored = _pairs(root)
    names, names_from = _class_names(root, class_names)
    if ignore_index is not None and 0 <= ignore_index < len(names):
        raise DataError(
            f"segmentation folder {root}: ignore_index {ignore_index} is class "
            f"'{names[ignore_index]}'; ignore another value or drop that class from the names"
        )
    hw = _common_size(root, pairs, hw)
    channels = 1 if mode == "grayscale" else 3
    X = np.empty((len(pairs), channels, *hw), dtype=np.float32)
    masks = np.empty((len(pairs), *hw), dtype=np.int64)
    for i, (_, image, mask) in enumerate(pairs):
        X[i] = _read(image, mode, hw)
        masks[i] = _mask(mask, hw)
        check_mask_values(masks[i], len(names), ignore_index,
                          what=f"mask {mask.relative_to(root)}")
    return segmentation_dataset(
        name, X, masks, names,
        source="segmentation_folder",
        description=f"{root.name}: {len(pairs)} {mode} images {hw[0]}x{hw[1]} with masks of "
        f"{len(names)} classes, local segmentation folder",
        meta={
            "path": str(root.resolve()),
            "mode": mode,
            "size": None if size is None else list(hw),
            "class_names_from": names_from,
            "ignored_files": ignored,
        },
        ignore_index=None if ignore_index is None else int(ignore_index),
        image_names=[image.name for _, image, _ in pairs],
    )
