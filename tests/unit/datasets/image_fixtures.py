"""Builders for small image datasets on disk: class folders of PNG/JPEG files and MNIST-format
IDX files. Shared by the dataset unit tests and the CLI integration tests.

Every pixel of an image of class ``k`` has gray level ``label_value(k)`` (RGB images:
``label_rgb(k)``), so a test can read an image's class back from its pixels.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np

Size = int | tuple[int, int]


def label_value(k: int) -> int:
    """Gray level (0..255) of every pixel of a class-``k`` image: 20, 60, 100, ..."""
    return (20 + 40 * k) % 256


def label_rgb(k: int) -> tuple[int, int, int]:
    """RGB colour of every pixel of a class-``k`` image (channels differ, so order is tested)."""
    v = label_value(k)
    return (v, 255 - v, 128)


def _hw(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def make_image_folder(
    root: str | Path,
    classes: Sequence[str],
    per_class: int | Sequence[int],
    size: Size | Sequence[Size] = 8,
    mode: str = "grayscale",
    *,
    ext: str | Sequence[str] = "png",
) -> Path:
    """Write ``root/<class>/<i>.<ext>`` images, flat-coloured by class, and return ``root``.

    ``per_class`` is one count for every class or a count per class; ``size`` is an int, an
    (height, width) pair, or a list of them cycled over the images of each class (to test
    resizing); ``mode`` is "grayscale" (Pillow "L") or "rgb"; ``ext`` is an extension such as
    "png", "jpg", "JPEG", or a list of them cycled over the images.
    """
    from PIL import Image

    root = Path(root)
    counts = [per_class] * len(classes) if isinstance(per_class, int) else list(per_class)
    if len(counts) != len(classes):
        raise ValueError("per_class needs one count per class")
    if isinstance(size, int) or (len(size) == 2 and all(isinstance(v, int) for v in size)):
        sizes = [_hw(size)]  # type: ignore[arg-type]
    else:
        sizes = [_hw(s) for s in size]  # type: ignore[union-attr]
    exts = [ext] if isinstance(ext, str) else list(ext)
    for k, cls in enumerate(classes):
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(counts[k]):
            h, w = sizes[i % len(sizes)]
            suffix = exts[i % len(exts)]
            if mode == "grayscale":
                img = Image.new("L", (w, h), label_value(k))
            elif mode == "rgb":
                img = Image.new("RGB", (w, h), label_rgb(k))
            else:
                raise ValueError(f"mode must be grayscale or rgb, got {mode!r}")
            options = {"quality": 95} if suffix.lower() in ("jpg", "jpeg") else {}
            img.save(folder / f"{i:03d}.{suffix}", **options)
    return root


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file's bytes: magic ``0x0000{type_code}{ndim}``, big-endian dims, then the data
    (as unsigned bytes unless another ``type_code`` is given for a negative test)."""
    array = np.asarray(array)
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=dtypes[type_code]).tobytes()


def write_idx(
    path: str | Path,
    images: np.ndarray,
    labels: np.ndarray,
    gz: bool = False,
    *,
    split: str = "train",
) -> tuple[Path, Path]:
    """Write ``images`` (N, H, W uint8) and ``labels`` (N,) into folder ``path`` under the MNIST
    names of ``split`` ("train" -> ``train-*``, "test" -> ``t10k-*``), gzipped when ``gz``;
    returns (images file, labels file)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    stem = {"train": "train", "test": "t10k"}[split]
    suffix = ".gz" if gz else ""
    out = []
    for what, n, array in (("images", 3, images), ("labels", 1, labels)):
        file = folder / f"{stem}-{what}-idx{n}-ubyte{suffix}"
        data = idx_bytes(np.asarray(array, dtype=np.uint8))
        file.write_bytes(gzip.compress(data) if gz else data)
        out.append(file)
    return out[0], out[1]


def label_images(labels: Sequence[int], size: Size = 4) -> np.ndarray:
    """uint8 images (N, H, W) whose pixels are all ``label_value(label)``."""
    h, w = _hw(size)
    values = np.array([label_value(int(k)) for k in labels], dtype=np.uint8)
    return np.broadcast_to(values[:, None, None], (len(values), h, w)).copy()


#: Class names of :func:`segmentation_masks`, in label order.
SEGMENTATION_CLASSES = ("background", "square", "dot")
#: The mask value :func:`segmentation_masks` uses for ignored pixels (PASCAL VOC's void).
VOID = 255


def segmentation_masks(n: int = 12, size: Size = 8) -> np.ndarray:
    """uint8 masks (n, H, W) of :data:`SEGMENTATION_CLASSES` whose strata cycle 0, 1, 2.

    Image ``i`` holds background, a 3x3 ``square`` (class 1) when ``i % 3 >= 1`` and a 1-pixel
    ``dot`` (class 2) when ``i % 3 == 2``, placed differently per image; every fourth image
    (``i % 4 == 0``) has its top row set to :data:`VOID`. So image ``i``'s stratum (its rarest
    class) is ``i % 3``, and ``n = 12`` gives 4 images per stratum.
    """
    h, w = _hw(size)
    if h < 5 or w < 5:
        raise ValueError("segmentation masks need at least 5x5 pixels")
    masks = np.zeros((n, h, w), dtype=np.uint8)
    for i in range(n):
        r, c = 1 + i % (h - 4), 1 + (2 * i) % (w - 4)
        if i % 3 >= 1:
            masks[i, r:r + 3, c:c + 3] = 1
        if i % 3 == 2:
            masks[i, h - 1 - i % 2, w - 1 - (i // 2) % 2] = 2
        if i % 4 == 0:
            masks[i, 0, :] = VOID
    return masks


def mask_image(mask: np.ndarray, mode: str = "rgb") -> np.ndarray:
    """uint8 pixels painting each class ``k`` of ``mask`` (H, W) in ``label_value(k)`` (gray)
    or ``label_rgb(k)`` (rgb); ignored pixels are black. (H, W) or (H, W, 3)."""
    mask = np.asarray(mask)
    lut_gray = np.zeros(256, dtype=np.uint8)
    lut_rgb = np.zeros((256, 3), dtype=np.uint8)
    for k in range(255):
        lut_gray[k] = label_value(k)
        lut_rgb[k] = label_rgb(k)
    return lut_gray[mask] if mode == "grayscale" else lut_rgb[mask]


def make_segmentation_folder(
    root: str | Path,
    masks: np.ndarray | Sequence[np.ndarray] | None = None,
    class_names: Sequence[str] | None = SEGMENTATION_CLASSES,
    *,
    mode: str = "rgb",
    mask_mode: str = "L",
    image_ext: str = "png",
) -> Path:
    """Write a ``segmentation_folder`` layout and return ``root``::

        root/classes.txt          (one name per line; not written when class_names is None)
        root/images/000.<image_ext>  root/masks/000.png  ...

    ``masks`` are uint8 (H, W) masks, one per image (default :func:`segmentation_masks`: 12
    masks 8x8 of 3 classes, 4 images per stratum, with :data:`VOID` pixels); each image is
    :func:`mask_image` of its mask in ``mode`` ("rgb" or "grayscale"), so its pixels give the
    classes back. ``mask_mode`` is the masks' Pillow mode: "L" (grayscale) or "P" (palette).
    """
    from PIL import Image

    root = Path(root)
    masks = segmentation_masks() if masks is None else masks
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for i, mask in enumerate(masks):
        mask = np.asarray(mask, dtype=np.uint8)
        pixels = mask_image(mask, mode)
        image = Image.fromarray(pixels, "L" if mode == "grayscale" else "RGB")
        options = {"quality": 95} if image_ext.lower() in ("jpg", "jpeg") else {}
        image.save(root / "images" / f"{i:03d}.{image_ext}", **options)
        stored = Image.fromarray(mask, "L")
        if mask_mode == "P":
            stored = stored.convert("P")
            stored.putpalette([v for k in range(256) for v in label_rgb(k)])
        elif mask_mode != "L":
            raise ValueError(f"mask_mode must be L or P, got {mask_mode!r}")
        stored.save(root / "masks" / f"{i:03d}.png")
    if class_names is not None:
        (root / "classes.txt").write_text("".join(f"{n}\n" for n in class_names), encoding="utf-8")
    return root
