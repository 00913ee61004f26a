"""Cross-entropy: the baseline every other loss is measured against (docs/losses.md)."""

from __future__ import annotations

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, gather_target, log_probs
from dflbench.losses._params import REDUCTION


def cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Per-sample cross-entropy ``-log p_t`` for (..., N, C) logits and (..., N) targets."""
    return -gather_target(log_probs(logits), targets)


def cross_entropy_grad(softmax: Softmax, scale: float = 1.0) -> ClosedForm:
    """``-log p_t`` and its gradient ``p - t`` from the softmax terms of the logits; for logits
    ``scale z``, the gradient with respect to ``z`` (``scale (p - t)``)."""
    grad = softmax.p_minus_t * scale if scale != 1.0 else softmax.p_minus_t
    return ClosedForm(-softmax.log_pt, grad, {})


@LOSSES.register("ce", rules={"reduction": REDUCTION})
class CrossEntropy(Loss):
    """Cross-entropy ``l_n = -log p_t``, ``p = softmax(z)``; the baseline of Hossain et al. (2021)."""

    name = "ce"
    title = "Cross-entropy"
    source = "Standard softmax cross-entropy (the baseline of Hossain et al., Neurocomputing 2021)"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return cross_entropy(logits, targets)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        return cross_entropy_grad(softmax)
