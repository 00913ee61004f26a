"""Synthetic segmentation scenes: seeded, offline, fast, with pixel classes of very different
frequency. Each RGB image is a textured background with a random subset of objects painted on:

- ``blob``: up to 2 large ellipses (any orientation);
- ``disc``: up to 5 small filled discs;
- ``line``: up to 5 straight lines one pixel wide;
- clutter that stays ``background``: small filled squares and dashed lines.

Every object's colour is drawn from the same range, overlapping the background's, so colour alone
never decides a pixel's class (shape and context do), and Gaussian pixel noise of standard
deviation ``noise`` is added before clipping to [0, 1]. Pixel shares with the defaults (400
images of 32x32) are about 89 % background, 9.2 % blob, 1.4 % disc and 0.5 % line (lines, one
pixel wide, take a smaller share of larger images), so the class order is the order of frequency.
Each image first draws its *level*, the rarest class it will hold (background only, blob, disc,
line with probabilities 0.35, 0.3, 0.2, 0.15), so the images' strata also decrease in label order
(about 139, 111, 86, 64 of 400) and a label-ordered imbalance profile thins the rarest most.

``ignore_border`` carves a band of ignored pixels (-1, like PASCAL VOC's void border) around
objects: a pixel is ignored when a pixel of a rarer (later) class lies within ``ignore_border``
pixels of it (Chebyshev distance), so the band is taken from the surrounding, more common class
and a thin line keeps all its pixels. The draws do not depend on it: images and the other pixels'
labels are those of the same seed without a border.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dflbench.datasets import IGNORE, SOURCES, Dataset
from dflbench.datasets._segmentation import segmentation_dataset
from dflbench.params import Rule

CLASSES = ("background", "blob", "disc", "line")
_BACKGROUND, _BLOB, _DISC, _LINE = range(4)
#: Each image's *level*: the rarest class it holds (0: background only), with these
#: probabilities, decreasing so the strata (dflbench.datasets._segmentation) decrease in label
#: order as an imbalance profile expects. An image of level k holds 1..max objects of class k,
#: none of a later class, and each earlier object class with probability _EARLIER.
_LEVELS = (0.35, 0.3, 0.2, 0.15)
_EARLIER = 0.6
#: The most objects of each class in one image (blob, disc, line), and of each kind of clutter
#: (squares, dashed lines), whose number is 0..max in every image.
_MOST = {_BLOB: 2, _DISC: 5, _LINE: 5}
_CLUTTER = 2
#: Line lengths as fractions of the image side.
_LINE_LENGTH = (0.35, 0.7)
#: Object colours: uniform in [lo, hi] per channel; the background spans an overlapping range.
_OBJECT_RGB = (0.25, 1.0)
_BACKGROUND_RGB = (0.0, 0.65)


def _slots(count: np.ndarray, most: int) -> np.ndarray:
    """(n, most, 1, 1) bool: which of ``most`` slots per image hold an object (``count`` each)."""
    return (np.arange(most)[None, :] < count[:, None])[..., None, None]


def _object_counts(rng: np.random.Generator, level: np.ndarray, label: int) -> np.ndarray:
    """Objects of class ``label`` in each image, given the images' levels."""
    n = level.shape[0]
    count = rng.integers(1, _MOST[label] + 1, size=n)
    keep = (level == label) | ((level > label) & (rng.random(n) < _EARLIER))
    return np.where(keep, count, 0)


def _colours(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(*_OBJECT_RGB, size=(*shape, 3)).astype(np.float32)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (row, column) shaped to broadcast against (n, slots, H, W)."""
    r = np.arange(size, dtype=np.float32)
    return r[None, None, :, None], r[None, None, None, :]


def _ellipses(rng: np.random.Generator, n: int, slots: int, size: int) -> np.ndarray:
    rows, cols = _grid(size)
    cy, cx = (rng.uniform(0.15, 0.85, size=(2, n, slots, 1, 1)) * size).astype(np.float32)
    a, b = (rng.uniform(0.12, 0.3, size=(2, n, slots, 1, 1)) * size).astype(np.float32)
    theta = rng.uniform(0, np.pi, size=(n, slots, 1, 1)).astype(np.float32)
    dy, dx = rows - cy, cols - cx
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _discs(rng: np.random.Generator, n: int, slots: int, size: int) -> np.ndarray:
    rows, cols = _grid(size)
    cy, cx = (rng.uniform(0.1, 0.9, size=(2, n, slots, 1, 1)) * size).astype(np.float32)
    r = rng.uniform(1.6, 3.0, size=(n, slots, 1, 1)).astype(np.float32) * (size / 32)
    return (rows - cy) ** 2 + (cols - cx) ** 2 <= r**2


def _squares(rng: np.random.Generator, n: int, slots: int, size: int) -> np.ndarray:
    rows, cols = _grid(size)
    cy, cx = (rng.uniform(0.1, 0.9, size=(2, n, slots, 1, 1)) * size).astype(np.float32)
    h = rng.uniform(1.0, 2.0, size=(n, slots, 1, 1)).astype(np.float32) * (size / 32)
    return (np.abs(rows - cy) <= h) & (np.abs(cols - cx) <= h)


def _segments(rng: np.random.Generator, n: int, slots: int, size: int, *,
              dashed: bool) -> np.ndarray:
    """Straight segments one pixel wide and 8-connected: one pixel per step along the segment's
    major axis (as Bresenham's algorithm draws them); ``dashed`` keeps alternate runs of 2
    pixels."""
    start = rng.uniform(0, size, size=(n, slots, 2))
    angle = rng.uniform(0, 2 * np.pi, size=(n, slots))
    length = rng.uniform(*_LINE_LENGTH, size=(n, slots)) * size
    delta = length[..., None] * np.stack([np.sin(angle), np.cos(angle)], axis=-1)
    # steps of exactly one pixel along the major axis (and at most one along the other)
    steps = np.maximum(np.abs(delta).max(axis=-1), 1.0)  # (n, slots)
    j = np.arange(size + 1)[None, None, :]
    t = j / steps[..., None]
    points = np.rint(start[:, :, None, :] + t[..., None] * delta[:, :, None, :]).astype(np.int64)
    keep = (t <= 1.0) & np.all((points >= 0) & (points < size), axis=-1)
    if dashed:
        keep &= (j // 2) % 2 == 0
    out = np.zeros((n, slots, size, size), dtype=bool)
    i, k, s = np.nonzero(keep)
    out[i, k, points[i, k, s, 0], points[i, k, s, 1]] = True
    return out


def _background(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """A smooth texture per image: a base colour, a linear gradient and a low-frequency wave."""
    r = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    rows, cols = r[None, None, :, None], r[None, None, None, :]
    lo, hi = _BACKGROUND_RGB
    base = rng.uniform(lo + 0.1, hi - 0.1, size=(n, 3, 1, 1)).astype(np.float32)
    gy, gx = rng.uniform(-0.2, 0.2, size=(2, n, 3, 1, 1)).astype(np.float32)
    freq = rng.uniform(1.0, 3.0, size=(n, 1, 1, 1)).astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1, 1)).astype(np.float32)
    wave = 0.08 * np.sin(2 * np.pi * freq * (rows + cols) + phase)
    return np.clip(base + gy * rows + gx * cols + wave, lo, hi).astype(np.float32)


def _paint(X: np.ndarray, masks: np.ndarray, shapes: np.ndarray, colours: np.ndarray,
           label: int) -> None:
    """Paint each slot's shape in its colour and label, in slot order (later on top)."""
    for k in range(shapes.shape[1]):
        where = shapes[:, k]
        np.copyto(X, np.broadcast_to(colours[:, k, :, None, None], X.shape),
                  where=where[:, None])
        masks[where] = label


def _border(masks: np.ndarray, width: int) -> np.ndarray:
    """``masks`` with every pixel that has a rarer (higher) class within ``width`` pixels
    (Chebyshev distance) set to -1."""
    if width == 0:
        return masks
    _, h, w = masks.shape
    padded = np.pad(masks, ((0, 0), (width, width), (width, width)), constant_values=0)
    rows = np.max([padded[:, d:d + h, :] for d in range(2 * width + 1)], axis=0)
    window = np.max([rows[:, :, d:d + w] for d in range(2 * width + 1)], axis=0)
    return np.where(window > masks, IGNORE, masks)


def generate(n_images: int, size: int, noise: float, seed: int,
             ignore_border: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images float32 (n, 3, size, size) in [0, 1] and masks int64 (n, size, size)."""
    rng = np.random.default_rng(seed)
    n = n_images
    X = _background(rng, n, size)
    masks = np.zeros((n, size, size), dtype=np.int64)
    level = rng.choice(len(_LEVELS), size=n, p=_LEVELS)
    counts = {c: _object_counts(rng, level, c) for c in (_BLOB, _DISC, _LINE)}
    clutter = rng.integers(0, _CLUTTER + 1, size=(2, n))
    layers = (  # (shapes, label) in paint order: later layers cover earlier ones
        (_ellipses(rng, n, _MOST[_BLOB], size) & _slots(counts[_BLOB], _MOST[_BLOB]), _BLOB),
        (_squares(rng, n, _CLUTTER, size) & _slots(clutter[0], _CLUTTER), _BACKGROUND),
        (_segments(rng, n, _CLUTTER, size, dashed=True) & _slots(clutter[1], _CLUTTER),
         _BACKGROUND),
        (_discs(rng, n, _MOST[_DISC], size) & _slots(counts[_DISC], _MOST[_DISC]), _DISC),
        (_segments(rng, n, _MOST[_LINE], size, dashed=False)
         & _slots(counts[_LINE], _MOST[_LINE]), _LINE),
    )
    for shapes, label in layers:
        _paint(X, masks, shapes, _colours(rng, shapes.shape[:2]), label)
    if noise > 0:
        X += rng.normal(0.0, noise, size=X.shape).astype(np.float32)
    np.clip(X, 0.0, 1.0, out=X)
    return X, _border(masks, ignore_border)


@SOURCES.register("shapes", rules={
    "n_images": Rule(int, ge=10),
    "size": Rule(int, ge=16, le=512),
    "noise": Rule(float, ge=0, le=1),
    "ignore_border": Rule(int, ge=0, le=8),
    "seed": Rule(int, ge=0),
})
def load(
    name: str,
    *,
    n_images: int = 400,
    size: int = 32,
    noise: float = 0.08,
    ignore_border: int = 0,
    seed: int = 0,
) -> Dataset:
    """Generate synthetic segmentation scenes (RGB, size x size) with rare pixel classes.

    Classes, in decreasing pixel frequency: ``background`` (with unlabelled clutter: squares and
    dashed lines), ``blob`` (large ellipses), ``disc`` (small discs), ``line`` (1-pixel lines).
    Each image holds a random subset of objects; colours overlap between classes, and Gaussian
    noise of standard deviation ``noise`` is added. ``ignore_border`` > 0 marks the pixels within
    that many pixels of a rarer class's object as ignored (-1). Deterministic given ``seed``;
    ``name`` is only a label.
    """
    X, masks = generate(n_images, size, noise, seed, ignore_border)
    params: dict[str, Any] = {"n_images": n_images, "size": size, "noise": noise,
                              "ignore_border": ignore_border, "seed": seed}
    return segmentation_dataset(
        name, X, masks, CLASSES,
        source="shapes",
        description=f"synthetic shapes: {n_images} RGB {size}x{size} scenes of blobs, discs and "
        "1-pixel lines on cluttered backgrounds",
        meta={"params": params},
        ignore_index=IGNORE if ignore_border else None,
    )
