"""Synthetic classification data from scikit-learn's ``make_classification`` (the Madelon
generator of Guyon 2003): Gaussian clusters on the vertices of a hypercube, with optional class
weights for built-in imbalance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.datasets import make_classification

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import frame
from dflbench.errors import ConfigError
from dflbench.params import short


def _int(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"synthetic: {key} must be an integer, got {short(value)}")
    if value < minimum:
        raise ConfigError(f"synthetic: {key} must be at least {minimum}, got {value}")
    return int(value)


def _float(key: str, value: Any, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"synthetic: {key} must be a number, got {short(value)}")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"in [{low:g}, {high:g}]" if high is not None else f"at least {low:g}"
        raise ConfigError(f"synthetic: {key} must be {bounds}, got {value:g}")
    return value


def _weights(weights: Any, n_classes: int) -> list[float] | None:
    if weights is None:
        return None
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ConfigError(f"synthetic: weights must be a list of numbers, got {short(weights)}")
    if len(weights) not in (n_classes, n_classes - 1):
        raise ConfigError(
            f"synthetic: weights has {len(weights)} values; give n_classes ({n_classes}) or "
            f"n_classes - 1 ({n_classes - 1}, the last class gets the rest)"
        )
    out = [_float("each weight", w, 0.0, 1.0) for w in weights]
    if any(w == 0 for w in out):
        raise ConfigError(
            "synthetic: every class weight must be > 0 (a weight of 0 empties a class)"
        )
    total = sum(out)
    if len(out) == n_classes - 1 and total >= 1.0:
        raise ConfigError(
            f"synthetic: the {len(out)} weights sum to {total:g}; with n_classes - 1 weights "
            "they must sum to less than 1 (the last class gets 1 - sum)"
        )
    if len(out) == n_classes and total > 1.0 + 1e-9:
        raise ConfigError(f"synthetic: weights sum to {total:g}; they must sum to at most 1")
    return out


def _check_together(params: dict[str, Any]) -> None:
    """Refuse feature and cluster counts that make_classification cannot honour together."""
    n_features, n_informative = params["n_features"], params["n_informative"]
    n_redundant = params["n_redundant"]
    clusters = params["n_classes"] * params["n_clusters_per_class"]
    if n_informative + n_redundant > n_features:
        raise ConfigError(
            f"synthetic: n_informative ({n_informative}) + n_redundant ({n_redundant}) must be "
            f"at most n_features ({n_features})"
        )
    if clusters > 2**n_informative:
        raise ConfigError(
            f"synthetic: n_classes * n_clusters_per_class ({clusters}) "
            f"must be at most 2**n_informative ({2**n_informative}); raise n_informative"
        )


def _params(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` checked one by one, then together; the checked values in ``raw``'s key order."""
    checked: dict[str, Any] = {
        "n_samples": _int("n_samples", raw["n_samples"], 2),
        "n_features": _int("n_features", raw["n_features"], 1),
        "n_informative": _int("n_informative", raw["n_informative"], 1),
        "n_redundant": _int("n_redundant", raw["n_redundant"], 0),
        "n_classes": _int("n_classes", raw["n_classes"], 2),
        "n_clusters_per_class": _int("n_clusters_per_class", raw["n_clusters_per_class"], 1),
        "random_state": _int("random_state", raw["random_state"], 0),
        "class_sep": _float("class_sep", raw["class_sep"], 0.0),
        "flip_y": _float("flip_y", raw["flip_y"], 0.0, 1.0),
    }
    _check_together(checked)
    checked["weights"] = _weights(raw["weights"], checked["n_classes"])
    return {key: checked[key] for key in raw}


@SOURCES.register("synthetic")
def load(
    name: str,
    *,
    n_samples: int = 2000,
    n_features: int = 20,
    n_informative: int = 10,
    n_redundant: int = 2,
    n_classes: int = 3,
    weights: list[float] | None = None,
    class_sep: float = 1.0,
    n_clusters_per_class: int = 1,
    flip_y: float = 0.0,
    random_state: int = 0,
) -> Dataset:
    """Generate a dataset with ``sklearn.datasets.make_classification``; ``name`` is only a label.

    Parameters are make_classification's, validated up front so a bad combination is one
    ConfigError line: n_informative + n_redundant <= n_features, n_classes * n_clusters_per_class
    <= 2**n_informative, weights of length n_classes or n_classes - 1 (positive, summing to at
    most 1), flip_y in [0, 1]. Classes are named "0".."C-1".
    """
    params = _params(
        {
            "n_samples": n_samples,
            "n_features": n_features,
            "n_informative": n_informative,
            "n_redundant": n_redundant,
            "n_classes": n_classes,
            "weights": weights,
            "class_sep": class_sep,
            "n_clusters_per_class": n_clusters_per_class,
            "flip_y": flip_y,
            "random_state": random_state,
        }
    )
    n = params["n_classes"]
    X, y = make_classification(n_repeated=0, **params)
    counts = np.bincount(y, minlength=n)
    if np.any(counts == 0):
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ConfigError(f"synthetic: class {empty} got no samples; raise n_samples or its weight")
    return Dataset(
        name=name,
        X=frame(X),
        y=y.astype(np.int64),
        class_names=tuple(str(c) for c in range(n)),
        source="synthetic",
        description="synthetic, scikit-learn make_classification (Guyon 2003)",
        meta={"labels": list(range(n)), "params": params},
    )
