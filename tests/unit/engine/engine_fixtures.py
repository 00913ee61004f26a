"""Shared by the engine tests: a small 3-class table, three treatments, a small MLP."""

from __future__ import annotations

import numpy as np
import torch

from dflbench.config import ModelConfig
from dflbench.engine import TrainData, Treatment, train_models

CPU = torch.device("cpu")
TREATMENTS = [Treatment("ce", "ce"), Treatment("dfl", "dual_focal"),
              Treatment("learn", "dual_focal_learnable")]
MODEL = ModelConfig("mlp", {"hidden": [16, 16]})


def make_data(n=240, f=6, c=3, seed=0, val=True) -> TrainData:
    """Gaussian blobs, classes 0.6/0.3/0.1; the last 20% of rows are the validation and test set."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(c, f))
    y = rng.choice(c, size=n, p=[0.6, 0.3, 0.1][:c] if c == 3 else None)
    X = (centers[y] + rng.normal(size=(n, f))).astype(np.float32)
    cut = int(n * 0.8)
    return TrainData(X[:cut], y[:cut], X[cut:] if val else None, y[cut:] if val else None,
                     X[cut:], c)


def train(data, treatments, seeds, cfg, workers=1, on_epoch=None):
    counts = np.bincount(data.y_train, minlength=data.n_classes).tolist()
    return train_models(data, treatments, seeds, counts, MODEL, cfg, CPU, on_epoch, workers)
