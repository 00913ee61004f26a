"""Dual Focal Loss *for calibration* of Tao, Dong and Xu (ICML 2023) — a different loss from
Hossain et al.'s ``dual_focal`` that happens to share the name (docs/losses.md)."""

from __future__ import annotations

import torch
from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import Loss, gather_target, log_probs, one_minus_p
from dflbench.losses._params import REDUCTION
from dflbench.params import Rule


def next_below_target(probs: Tensor, targets: Tensor) -> Tensor:
    """``p_j``: the largest probability strictly below ``p_t`` in each row (0 if none)."""
    p_t = gather_target(probs, targets).unsqueeze(-1)
    return torch.where(probs < p_t, probs, torch.zeros_like(probs)).amax(dim=-1)


def calibration_dual_focal_loss(logits: Tensor, targets: Tensor, *, gamma: float = 5.0) -> Tensor:
    """Per-sample ``-(1 - p_t + p_j)^gamma log p_t`` (Tao, Dong, Xu, ICML 2023)."""
    log_p = log_probs(logits)
    log_pt = gather_target(log_p, targets)
    p_j = next_below_target(log_p.exp(), targets)
    base = (one_minus_p(log_pt) + p_j).clamp_min(torch.finfo(log_p.dtype).tiny)
    return -base.pow(gamma) * log_pt


@LOSSES.register("dual_focal_calibration", rules={"gamma": Rule(float, ge=0), "reduction": REDUCTION})
class CalibrationDualFocalLoss(Loss):
    """Dual Focal Loss for Calibration (Tao, Dong, Xu, ICML 2023):
    ``l_n = -(1 - p_t + p_j)^gamma log p_t``, ``p_j`` the largest probability strictly below
    ``p_t``. NOT the Dual Focal Loss of Hossain et al. (``dual_focal``): this one targets
    calibration, not class imbalance."""

    name = "dual_focal_calibration"
    title = "Calibration Dual Focal Loss (Tao et al. 2023; not Hossain et al.'s dual_focal)"
    source = (
        "Tao, Dong, Xu, 'Dual Focal Loss for Calibration', ICML 2023 — a different loss from "
        "Hossain, Betts, Paplinski's Dual Focal Loss (dual_focal), despite the shared name"
    )

    def __init__(self, *, gamma: float = 5.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.gamma = gamma

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return calibration_dual_focal_loss(logits, targets, gamma=self.gamma)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, {super().extra_repr()}"
