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

    ``X_*`` hold one row per sample: (N, F) for tables, (N, C, H, W) for images.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    n_classes: int
