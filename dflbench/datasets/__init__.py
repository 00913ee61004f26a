"""Dataset sources, registered by name; each loader returns a :class:`Dataset`.

Adding a source is one file in this package with one ``@SOURCES.register("name")`` decorator on a
loader function ``load(name: str, **params) -> Dataset``; its keyword parameters are the keys a suite
entry may set (checked against the signature).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dflbench.errors import ConfigError
from dflbench.registry import Registry

#: The mask value of an ignored pixel (no class; left out of losses and metrics).
IGNORE = -1


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset as loaded, before splitting.

    ``X`` is a DataFrame for tabular data (numeric and categorical columns, missing values allowed
    for preprocessing to handle) or an array (N, channels, H, W) for images; ``y`` holds integer
    labels 0..C-1 whose names are ``class_names``.

    A *segmentation* dataset (``kind="segmentation"``) labels pixels, not images: ``masks`` is an
    int64 array (N, H, W) of pixel classes 0..C-1, with :data:`IGNORE` (-1) for an ignored pixel
    (every loader maps its own ignore value to -1), ``X`` float32 images (N, channels, H, W) of the
    same N, H, W, and ``class_names`` name the pixel classes. ``y`` is then each image's *stratum*,
    the rarest class present in it (see :mod:`dflbench.datasets._segmentation`), which stratified
    splitting and imbalance synthesis use. ``masks`` is required for that kind and refused for
    any other.
    """

    name: str
    X: pd.DataFrame | np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    source: str
    kind: str = "tabular"
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        # The contract every loader keeps; checked here so a broken loader fails at its source.
        y = np.asarray(self.y)
        if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
            raise ValueError(
                f"dataset '{self.name}': y must be a 1-D integer array, got {y.dtype} {y.shape}"
            )
        object.__setattr__(self, "y", y.astype(np.int64, copy=False))
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        if len(self.X) != y.shape[0]:
            raise ValueError(f"dataset '{self.name}': X has {len(self.X)} rows, y has {y.shape[0]}")
        if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
            raise ValueError(
                f"dataset '{self.name}': labels must lie in 0..{len(self.class_names) - 1}"
            )
        self._check_masks()

    def _check_masks(self) -> None:
        if self.kind != "segmentation":
            if self.masks is not None:
                raise ValueError(
                    f"dataset '{self.name}': masks belong to kind 'segmentation', not '{self.kind}'"
                )
            return
        if self.masks is None:
            raise ValueError(f"dataset '{self.name}': a segmentation dataset needs masks")
        masks = np.asarray(self.masks)
        if not isinstance(self.X, np.ndarray) or self.X.ndim != 4:
            raise ValueError(
                f"dataset '{self.name}': segmentation images must be an array (N, C, H, W)"
            )
        n, _, h, w = self.X.shape
        if masks.shape != (n, h, w):
            raise ValueError(
                f"dataset '{self.name}': masks have shape {masks.shape}, images {self.X.shape}; "
                f"expected ({n}, {h}, {w})"
            )
        if not np.issubdtype(masks.dtype, np.integer):
            raise ValueError(f"dataset '{self.name}': masks must be integers, got {masks.dtype}")
        if masks.size and (masks.min() < IGNORE or masks.max() >= len(self.class_names)):
            raise ValueError(
                f"dataset '{self.name}': mask values must lie in 0..{len(self.class_names) - 1} "
                f"or be {IGNORE} (ignored)"
            )
        object.__setattr__(self, "masks", masks.astype(np.int64, copy=False))

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def class_counts(self) -> np.ndarray:
        """Samples per class, indexed by label."""
        return np.bincount(self.y, minlength=self.n_classes)


SOURCES: Registry[Callable[..., Dataset]] = Registry("dataset source")


def load_dataset(source: str, name: str, params: dict[str, Any] | None = None) -> Dataset:
    """Load dataset ``name`` from ``source`` with a suite entry's extra ``params`` (checked
    against the loader's signature: an unknown key is a ConfigError listing the valid ones)."""
    params = dict(params or {})
    if "name" in params:
        raise ConfigError(f"dataset source '{source}': give the dataset name once, as name")
    SOURCES.check_params(source, params)
    return SOURCES.get(source)(name, **params)


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in ("split",):
            importlib.import_module(f"{__name__}.{info.name}")


_discover()
