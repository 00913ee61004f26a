"""Poly-1 loss (docs/losses.md, "The rest of the field")."""

from __future__ import annotations

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, gather_target, log_probs, one_minus_p
from dflbench.losses._params import REDUCTION
from dflbench.params import Rule


def poly1_loss(logits: Tensor, targets: Tensor, *, epsilon: float = 1.0) -> Tensor:
    """Per-sample ``-log p_t + epsilon (1 - p_t)``."""
    log_pt = gather_target(log_probs(logits), targets)
    return -log_pt + epsilon * one_minus_p(log_pt)


def poly1_grad(softmax: Softmax, *, epsilon: float = 1.0) -> ClosedForm:
    """``poly1_loss`` with its gradient ``(p - t) (1 + epsilon p_t)``."""
    log_pt = softmax.log_pt
    grad = softmax.p_minus_t * (1.0 + epsilon * log_pt.exp()).unsqueeze(-1)
    return ClosedForm(-log_pt + epsilon * one_minus_p(log_pt), grad, {})


@LOSSES.register("poly1", rules={"epsilon": Rule(float, ge=-1), "reduction": REDUCTION})
class Poly1Loss(Loss):
    """Poly-1 (Leng et al., ICLR 2022): ``l_n = -log p_t + epsilon (1 - p_t)``, the leading
    polynomial coefficient of cross-entropy perturbed by ``epsilon`` (>= -1 keeps it a proper
    loss, minimised at ``p_t = 1``)."""

    name = "poly1"
    title = "Poly-1 loss"
    source = (
        "Leng, Tan, Liu, Cubuk, Shi, Cheng, Anguelov, 'PolyLoss: A Polynomial Expansion "
        "Perspective of Classification Loss Functions', ICLR 2022"
    )

    def __init__(self, *, epsilon: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.epsilon = epsilon

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return poly1_loss(logits, targets, epsilon=self.epsilon)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        return poly1_grad(softmax, epsilon=self.epsilon)

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}, {super().extra_repr()}"
