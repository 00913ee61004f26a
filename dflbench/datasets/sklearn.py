"""Datasets bundled with scikit-learn: offline, small, balanced (pair them with an imbalance
profile to study imbalance)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import datasets as skdatasets

from dflbench.datasets import SOURCES, Dataset
from dflbench.errors import ConfigError, unknown

# name -> (loader, one-line provenance for the description)
_BUNDLED: dict[str, tuple[Callable[..., Any], str]] = {
    "iris": (skdatasets.load_iris, "UCI iris (Fisher 1936)"),
    "wine": (skdatasets.load_wine, "UCI wine recognition (Forina et al.)"),
    "breast_cancer": (
        skdatasets.load_breast_cancer,
        "UCI breast cancer Wisconsin diagnostic (Street, Wolberg & Mangasarian 1993)",
    ),
    "digits": (skdatasets.load_digits, "UCI optical handwritten digits 8x8 (Alpaydin & Kaynak)"),
}


@SOURCES.register("sklearn")
def load(name: str) -> Dataset:
    """Load ``iris``, ``wine``, ``breast_cancer`` or ``digits`` (64 pixel features) from
    scikit-learn's bundled copies; an unknown name raises ConfigError with a did-you-mean."""
    if name not in _BUNDLED:
        raise ConfigError(unknown("sklearn dataset", name, _BUNDLED))
    loader, provenance = _BUNDLED[name]
    bunch = loader(as_frame=True)
    X = bunch.data.copy()
    X.columns = [str(c) for c in X.columns]
    labels = sorted(int(v) for v in np.unique(bunch.target))
    # sklearn's targets are already 0..C-1; remap anyway so the contract never rests on that.
    y = np.searchsorted(labels, bunch.target.to_numpy()).astype(np.int64)
    target_names = [str(t) for t in bunch.target_names]
    return Dataset(
        name=name,
        X=X.reset_index(drop=True),
        y=y,
        class_names=tuple(target_names[v] for v in labels),
        source="sklearn",
        description=f"{provenance}, bundled with scikit-learn",
        meta={"labels": labels},
    )
