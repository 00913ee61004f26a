"""Region (set-level) losses: soft Dice, Tversky and their kin (docs/losses.md, "Region losses").

Their value is computed from per-class sums over all the samples (pixels) of a model's batch, so
they have no per-sample values: ``region = True``, only the reduction ``mean``, and ``forward``
returns one value per model, shape (...) for (..., N, C) logits. The ``mask`` of the loss contract
removes ignored samples from every sum. Gradients come from autograd (``per_sample_grad`` is None).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dflbench.errors import ConfigError
from dflbench.losses._base import Loss, check_mask, log_probs, one_hot, one_minus_p
from dflbench.params import Rule

#: The only reduction of a region loss: its value is already one number per model.
REGION_REDUCTIONS = ("mean",)
REGION_REDUCTION = Rule(str, choices=REGION_REDUCTIONS)
#: ``smooth`` must be positive: with 0, a class absent from a batch (no target, no predicted
#: mass) would give 0/0.
SMOOTH = Rule(float, gt=0)


class ClassSums(NamedTuple):
    """Soft confusion counts per model and class over the kept samples, each of shape (..., C):
    ``tp = Σ_n p_nc t_nc``, ``fp = Σ_n p_nc (1 − t_nc)``, ``fn = Σ_n (1 − p_nc) t_nc``.

    Each is a sum of non-negative terms (``1 − p`` from ``log p``, accurate near 1), not a
    difference of sums, so ``fp, fn ≥ 0`` exactly and the indices below never exceed 1."""

    tp: Tensor
    fp: Tensor
    fn: Tensor

    @classmethod
    def of(cls, logits: Tensor, targets: Tensor, mask: Tensor | None = None,
           log_p: Tensor | None = None) -> ClassSums:
        log_p = log_probs(logits) if log_p is None else log_p
        p, q = log_p.exp(), one_minus_p(log_p)
        t = one_hot(targets, p)
        if mask is not None:
            keep = check_mask(mask, targets).unsqueeze(-1)
            # torch.where: an ignored sample adds nothing and gets no gradient.
            p, q, t = (torch.where(keep, x, 0.0) for x in (p, q, t))
        pt = p * t
        return cls(pt.sum(dim=-2), (p - pt).sum(dim=-2), (q * t).sum(dim=-2))


def dice_index(sums: ClassSums, smooth: float) -> Tensor:
    """Soft Dice per class, ``(2 TP + ε) / (2 TP + FP + FN + ε)``; ``2 TP + FP + FN`` is
    ``Σ_n p_nc + Σ_n t_nc``."""
    twice = 2.0 * sums.tp
    return (twice + smooth) / (twice + sums.fp + sums.fn + smooth)


def tversky_index(sums: ClassSums, alpha: float, beta: float, smooth: float) -> Tensor:
    """Tversky index per class, ``(TP + ε) / (TP + α FP + β FN + ε)``."""
    return (sums.tp + smooth) / (sums.tp + alpha * sums.fp + beta * sums.fn + smooth)


class RegionLoss(Loss):
    """Base of the region losses: ``forward`` computes :class:`ClassSums` over the kept samples
    and hands them to :meth:`from_sums`; there is no ``per_sample``."""

    region = True

    def __init__(self, *, smooth: float = 1.0, reduction: str = "mean") -> None:
        if reduction not in REGION_REDUCTIONS:
            raise ConfigError(
                f"invalid reduction '{reduction}' for the region loss '{self.name}' "
                f"(valid: {', '.join(REGION_REDUCTIONS)})"
            )
        super().__init__(reduction=reduction)
        self.smooth = smooth

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        raise NotImplementedError(
            f"'{self.name}' is a region loss: its value is computed over all the samples of a "
            f"batch, and it has no per-sample values; call the loss itself"
        )

    def forward(self, logits: Tensor, targets: Tensor, mask: Tensor | None = None) -> Tensor:
        """One loss per model, shape ``targets.shape[:-1]``, over the kept samples."""
        return self.from_sums(ClassSums.of(logits, targets, mask))

    def from_sums(self, sums: ClassSums) -> Tensor:
        """The loss per model from its per-class sums (..., C)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"smooth={self.smooth}, {super().extra_repr()}"
