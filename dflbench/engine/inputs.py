"""What the engine trains on: the preprocessed arrays of one dataset, and the losses to compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Treatment:
    """A loss with its parameters, under its report label."""

    label: str
    loss: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainData:
    """Preprocessed float32 arrays; validation arrays are empty when early stopping is off.

    ``X_*`` hold one row per sample: (N, F) for tables, (N, C, H, W) for images. ``rows``, when
    given, maps each seed to the positions of ``X_train`` its models train on, all of one length
    (e.g. each seed's own resampled training set, stored one after the other): a model then draws
    its minibatches from its own rows exactly as it would from ``X_train[rows[seed]]`` alone, so
    models with different training sets share one stack.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    n_classes: int
    rows: dict[int, np.ndarray] | None = None
