"""Small pictures in a result file: a segmentation dataset's sample test images, their masks and
each treatment's predicted masks, stored as base64 text of their uint8 bytes (a 32×32 mask is
1,368 characters), so the HTML report can show them from the result file alone."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

#: How an ignored pixel (label -1) is stored in a mask's bytes.
IGNORED = 255
#: How many test images a segmentation result shows.
N_SAMPLES = 3


def encode(values: np.ndarray) -> str:
    """uint8 ``values`` as base64 text."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode("ascii")


def decode(text: str, shape: Sequence[int]) -> np.ndarray:
    """The uint8 array of ``shape`` that :func:`encode` wrote as ``text``."""
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(tuple(shape))


def mask_bytes(mask: np.ndarray) -> np.ndarray:
    """A mask of labels 0..C-1 (and -1 for ignored pixels) as uint8, ignored as :data:`IGNORED`."""
    return np.where(mask < 0, IGNORED, mask).astype(np.uint8)


def image_bytes(image: np.ndarray) -> np.ndarray:
    """An image (C, H, W) of any range as uint8, stretched to 0..255 for display."""
    lo, hi = float(image.min()), float(image.max())
    scaled = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    return np.round(scaled * 255).astype(np.uint8)


def chosen(masks: np.ndarray, rarest: Sequence[int], n: int = N_SAMPLES) -> list[int]:
    """The ``n`` test images worth showing: most pixels of the rarest classes first (``rarest``
    lists classes from the rarest), ties broken by position."""
    per_image = np.stack([(masks == c).reshape(len(masks), -1).sum(axis=1) for c in rarest])
    order = np.lexsort(tuple(-row for row in per_image[::-1]))  # first key: the rarest class
    return sorted(int(i) for i in order[:n])
