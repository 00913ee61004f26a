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


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset as loaded, before splitting.

    ``X`` is a DataFrame for tabular data (numeric and categorical columns, missing values allowed
    for preprocessing to handle) or an array (N, channels, H, W) for images; ``y`` holds integer
    labels 0..C-1 whose names are ``class_names``.
    """

    name: str
    X: pd.DataFrame | np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    source: str
    kind: str = "tabular"
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

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
