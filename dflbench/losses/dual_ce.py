"""Dual Cross-Entropy (docs/losses.md, "The losses of the Dual Focal Loss paper")."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, gather_target, log_probs, softmax_backward
from dflbench.losses._params import REDUCTION
from dflbench.params import Rule


def dual_cross_entropy(
    logits: Tensor, targets: Tensor, *, alpha: float = 1.0, beta: float = 1.0
) -> Tensor:
    """Per-sample ``-log p_t + beta * sum_{c != y} log(alpha + p_c)``."""
    log_p = log_probs(logits)
    false = 1.0 - F.one_hot(targets, logits.shape[-1]).to(log_p.dtype)
    regulariser = (false * torch.log(alpha + log_p.exp())).sum(dim=-1)
    return -gather_target(log_p, targets) + beta * regulariser


def dual_cross_entropy_grad(softmax: Softmax, *, alpha: float = 1.0, beta: float = 1.0) -> ClosedForm:
    """``dual_cross_entropy`` with its gradient ``p - t + softmax_backward(p, g)``,
    ``g_c = beta (1 - t_c) / (alpha + p_c)``."""
    p = softmax.p
    false = 1.0 - softmax.t
    shifted = alpha + p
    regulariser = (false * torch.log(shifted)).sum(dim=-1)
    grad = softmax.p_minus_t + softmax_backward(p, (beta * false) / shifted)
    return ClosedForm(-softmax.log_pt + beta * regulariser, grad, {})


@LOSSES.register("dual_ce", rules={"alpha": Rule(float, gt=0), "beta": Rule(float, ge=0),
                                   "reduction": REDUCTION})
class DualCrossEntropy(Loss):
    """Dual Cross-Entropy (Li et al., IEEE TVT 2019):
    ``l_n = -log p_t + beta * sum_{c != y} log(alpha + p_c)``; the second term penalises
    probability mass on the false classes."""

    name = "dual_ce"
    title = "Dual cross-entropy"
    source = (
        "Li, Yu, Chang, Ma, Cao, 'Dual Cross-Entropy Loss for Small-Sample Fine-Grained Vehicle "
        "Classification', IEEE Transactions on Vehicular Technology 68(5) (2019)"
    )

    def __init__(self, *, alpha: float = 1.0, beta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.alpha, self.beta = alpha, beta

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return dual_cross_entropy(logits, targets, alpha=self.alpha, beta=self.beta)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        return dual_cross_entropy_grad(softmax, alpha=self.alpha, beta=self.beta)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, {super().extra_repr()}"
