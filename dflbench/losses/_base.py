"""The contract every dflbench loss follows (docs/losses.md).

A loss takes logits ``z`` of shape (..., N, C) and integer targets ``y`` of shape (..., N). Leading
dimensions are independent models (the batched engine trains K models at once, so (K, N, C)); the
reduction runs over the sample axis only, so ``mean`` on (K, N, C) returns K per-model losses.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from dflbench.errors import ConfigError

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if valid, else raise a ValueError listing the valid ones."""
    if reduction not in REDUCTIONS:
        raise ConfigError(
            f"invalid reduction '{reduction}' (valid: {', '.join(REDUCTIONS)})"
        )
    return reduction


class Loss(nn.Module):
    """Base class: subclasses implement ``per_sample`` and, if weighted, ``sample_weights``.

    Class attributes describe what the trainer must provide, so it never special-cases a loss by
    name: ``needs_class_counts`` (counts of the fitted training rows are passed as
    ``class_counts``), ``head`` (``"linear"`` logits or ``"cosine"`` normalised logits).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    needs_class_counts: ClassVar[bool] = False
    head: ClassVar[str] = "linear"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Unweighted per-sample loss ``l_n``, shape ``targets.shape``."""
        raise NotImplementedError

    def sample_weights(self, targets: Tensor) -> Tensor | None:
        """Per-sample weights ``w[y_n]`` for a weighted-mean reduction, or None for a plain mean."""
        return None

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        loss = self.per_sample(logits, targets)
        weights = self.sample_weights(targets)
        if weights is not None:
            # Buffers may be float32 while the logits are float64 (or the reverse): follow the loss.
            weights = weights.to(loss.dtype)
            loss = loss * weights
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum(dim=-1)
        if weights is not None:
            # Weighted mean, exactly as torch.nn.functional.cross_entropy(weight=w).
            return loss.sum(dim=-1) / weights.sum(dim=-1)
        return loss.mean(dim=-1)

    def learned(self) -> dict[str, Tensor]:
        """Values of trainable loss parameters (e.g. DFL's gamma), one per model; empty if none."""
        return {}

    def probabilities(self, logits: Tensor) -> Tensor:
        """Class probabilities the trained model predicts from its logits (softmax by default)."""
        return torch.softmax(logits, dim=-1)

    def start_epoch(self, epoch: int, n_epochs: int) -> None:
        """Hook called by the trainer before each epoch (e.g. deferred re-weighting); default none."""

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def log_probs(logits: Tensor) -> Tensor:
    """Numerically stable log-softmax over the class axis."""
    return torch.log_softmax(logits, dim=-1)


def gather_target(values: Tensor, targets: Tensor) -> Tensor:
    """``values[..., n, y_n]`` for (..., N, C) values and (..., N) targets."""
    return values.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def like(values: Tensor, logits: Tensor) -> Tensor:
    """A per-class buffer on the logits' device and dtype (buffers are stored in float32)."""
    return values.to(device=logits.device, dtype=logits.dtype)


def one_minus_p(log_p: Tensor) -> Tensor:
    """``1 - p`` from ``log p``, accurate when ``p`` is close to 1 (``-expm1(log p)``)."""
    return -torch.expm1(log_p)
