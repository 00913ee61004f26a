"""Segmentation datasets: the one place that checks masks and computes each image's stratum
(not a source: the leading underscore keeps it out of auto-discovery).

Conventions every segmentation loader keeps (docs/suite-file.md, "Segmentation"):

- ``masks`` (N, H, W) int64 hold pixel classes 0..C-1 and :data:`IGNORE` (-1) for an ignored
  pixel; a loader's own ignore value (255 in a PNG mask, a user's ``ignore_index``) becomes -1 here.
- ``y[i]``, the *stratum* of image ``i``, is the class present in it (ignored pixels aside) whose
  pixel count over the whole dataset is smallest: the image's rarest class. Ties between classes
  of equal count go to the later class (label order, the order imbalance profiles thin). Stratified
  splits and imbalance synthesis act on whole images through these strata, so an exponential
  profile drops images whose rarest class is a late (rare) one.
- Every image has at least one labelled pixel and every class at least one pixel, else DataError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dflbench.datasets import IGNORE, Dataset
from dflbench.errors import DataError


def pixel_counts(masks: np.ndarray, n_classes: int) -> np.ndarray:
    """Labelled pixels per class over all ``masks`` (ignored pixels left out)."""
    values = masks[masks != IGNORE]
    return np.bincount(values.ravel(), minlength=n_classes).astype(np.int64)


def strata(masks: np.ndarray, n_classes: int) -> np.ndarray:
    """Each image's stratum: the present class with the fewest pixels dataset-wide (ties: the
    later class). ``masks`` must already use -1 for ignored pixels and hold a labelled pixel in
    every image."""
    n = masks.shape[0]
    flat = masks.reshape(n, -1)
    labelled = flat != IGNORE
    image = np.broadcast_to(np.arange(n)[:, None], flat.shape)[labelled]
    present = np.zeros(n * n_classes, dtype=bool)
    present[image * n_classes + flat[labelled]] = True
    present = present.reshape(n, n_classes)
    counts = pixel_counts(masks, n_classes)
    # rank[c]: 0 for the rarest class; equal counts rank the later class rarer.
    order = np.lexsort((-np.arange(n_classes), counts))
    rank = np.empty(n_classes, dtype=np.int64)
    rank[order] = np.arange(n_classes)
    ranked = np.where(present, rank[None, :], n_classes)
    return ranked.argmin(axis=1).astype(np.int64)


def _where(i: int, image_names: Sequence[str] | None) -> str:
    return f"image {image_names[i]}" if image_names is not None else f"image {i}"


def check_mask_values(masks: np.ndarray, n_classes: int, ignore_index: int | None, *,
                      what: str) -> None:
    """Refuse raw ``masks`` holding a value that is neither a class 0..C-1 nor ``ignore_index``
    (DataError naming the value and ``what`` holds it) or that are not integers."""
    if not np.issubdtype(masks.dtype, np.integer):
        raise DataError(f"{what}: masks must hold integer class indices, got {masks.dtype}")
    bad = (masks < 0) | (masks >= n_classes)
    if ignore_index is not None:
        bad &= masks != ignore_index
    if bad.any():
        value = int(masks[bad].flat[0])
        allowed = f"0..{n_classes - 1}" + ("" if ignore_index is None else
                                           f" or the ignore index {ignore_index}")
        hint = "; set ignore_index if it marks ignored pixels" if ignore_index is None else ""
        raise DataError(f"{what} holds mask value {value}; expected a class {allowed} "
                        f"({n_classes} classes){hint}")


def map_ignore(masks: np.ndarray, n_classes: int, ignore_index: int | None, *,
               what: str) -> np.ndarray:
    """Raw integer ``masks`` checked (:func:`check_mask_values`) and as int64 with
    ``ignore_index`` mapped to -1."""
    check_mask_values(masks, n_classes, ignore_index, what=what)
    masks = masks.astype(np.int64, copy=False)
    if ignore_index is not None and ignore_index != IGNORE:
        masks = np.where(masks == ignore_index, IGNORE, masks)
    return masks


def check_class_names(names: Any, *, what: str) -> tuple[str, ...]:
    """Class names as distinct strings, at least 2; DataError otherwise."""
    out = tuple(str(n) for n in names)
    if len(out) < 2:
        raise DataError(f"{what}: need at least 2 class names, got {len(out)}")
    duplicates = sorted({n for n in out if out.count(n) > 1})
    if duplicates:
        raise DataError(f"{what}: class names repeat {', '.join(duplicates)}")
    return out


def _labelled_counts(masks: np.ndarray, names: Sequence[str], name: str,
                     image_names: Sequence[str] | None) -> np.ndarray:
    """Pixels per class of ``masks`` (ignored ones mapped already), refusing an image without a
    labelled pixel and a class without pixels."""
    empty = np.flatnonzero((masks != IGNORE).reshape(masks.shape[0], -1).sum(axis=1) == 0)
    if empty.size:
        raise DataError(
            f"dataset '{name}': {_where(int(empty[0]), image_names)} has no labelled pixel "
            f"(every pixel is ignored); {empty.size} such image(s)"
        )
    counts = pixel_counts(masks, len(names))
    missing = [names[c] for c in np.flatnonzero(counts == 0)]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        listed = ", ".join(repr(m) for m in missing[:5]) + more
        raise DataError(
            f"dataset '{name}': class {listed} {'has' if len(missing) == 1 else 'have'} no "
            "pixel in any mask; every class needs at least one"
        )
    return counts


def segmentation_dataset(
    name: str,
    X: np.ndarray,
    masks: np.ndarray,
    class_names: Sequence[str],
    *,
    source: str,
    description: str,
    meta: dict[str, Any],
    ignore_index: int | None,
    image_names: Sequence[str] | None = None,
) -> Dataset:
    """A segmentation Dataset from images ``X`` (float32 (N, C, H, W)) and raw ``masks``
    (N, H, W) whose value ``ignore_index`` (None: none) marks ignored pixels.

    Checks shapes and mask values, maps ``ignore_index`` to -1, refuses an image without a
    labelled pixel (named by ``image_names[i]`` when given) and a class without pixels, and
    computes the strata ``y``. ``meta`` gains ``ignore_index`` (as given), ``image_shape``,
    ``pixel_counts`` (per class name), ``ignored_pixels``, ``labels`` and ``strata``.
    """
    names = check_class_names(class_names, what=f"dataset '{name}'")
    X = np.asarray(X)
    masks = np.asarray(masks)
    if X.ndim != 4:
        raise DataError(f"dataset '{name}': images must be (N, C, H, W), got shape {X.shape}")
    if masks.shape != (X.shape[0], X.shape[2], X.shape[3]):
        raise DataError(
            f"dataset '{name}': masks have shape {masks.shape} but images {X.shape}; "
            f"expected ({X.shape[0]}, {X.shape[2]}, {X.shape[3]})"
        )
    if X.shape[0] == 0 or 0 in X.shape[1:]:
        raise DataError(f"dataset '{name}': no images (shape {X.shape})")
    masks = map_ignore(masks, len(names), ignore_index, what=f"dataset '{name}'")
    counts = _labelled_counts(masks, names, name, image_names)
    y = strata(masks, len(names))
    meta = {
        **meta,
        "ignore_index": ignore_index,
        "image_shape": [int(d) for d in X.shape[1:]],
        "labels": list(names),
        "pixel_counts": {n: int(c) for n, c in zip(names, counts)},
        "ignored_pixels": int((masks == IGNORE).sum()),
        "strata": "rarest class present in each image",
    }
    return Dataset(
        name=name,
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=y,
        class_names=names,
        source=source,
        kind="segmentation",
        description=description,
        meta=meta,
        masks=np.ascontiguousarray(masks),
    )
