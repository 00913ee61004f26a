"""Shared data for the loss tests: the golden batch of docs/losses.md."""

from __future__ import annotations

import pytest
import torch

GOLDEN_LOGITS = [[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0]]
GOLDEN_TARGETS = [0, 2, 1]
COUNTS = [1000, 100, 10]


@pytest.fixture
def counts() -> list[int]:
    return list(COUNTS)


@pytest.fixture
def golden() -> tuple[torch.Tensor, torch.Tensor]:
    """The golden logits (float64) and targets of docs/losses.md."""
    return torch.tensor(GOLDEN_LOGITS, dtype=torch.float64), torch.tensor(GOLDEN_TARGETS)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A random float64 batch: 64 samples, 3 classes, every class present."""
    g = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(64, 3, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 3, (64,), generator=g)
    targets[:3] = torch.arange(3)
    return logits, targets
