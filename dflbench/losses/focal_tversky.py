"""Focal Tversky loss (docs/losses.md, "Region losses")."""

from __future__ import annotations

import torch
from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._region import ClassSums, RegionLoss, tversky_index
from dflbench.losses.tversky import TVERSKY_RULES
from dflbench.params import Rule


@LOSSES.register("focal_tversky", rules={**TVERSKY_RULES, "gamma": Rule(float, gt=0)})
class FocalTverskyLoss(RegionLoss):
    """Focal Tversky loss (Abraham, Khan, ISBI 2019): ``loss = (1/C) Σ_c (1 − TI_c)^(1/γ)``, with
    the Tversky index ``TI_c`` of ``tversky`` (α on false positives, β on false negatives).

    The paper sums over classes; dflbench averages (the sum divided by C), so the value stays in
    [0, 1] and γ = 1 equals ``tversky``. Defaults: γ = 4/3 (the paper's; the authors' code raises
    to 1/γ = 0.75), α = 0.3, β = 0.7 (the paper's α = 0.7 on false negatives), ε = 1 (the
    authors' code). Where ``1 − TI_c`` is below the smallest normal float the term is 0 with no
    gradient, so the gradient stays finite at ``TI_c = 1`` for γ > 1 (where ``x^(1/γ)`` has an
    infinite slope). A region loss: one value per model, reduction ``mean`` only.
    """

    name = "focal_tversky"
    title = "Focal Tversky loss"
    source = (
        "Abraham, Khan, 'A Novel Focal Tversky Loss Function with Improved Attention U-Net for "
        "Lesion Segmentation', ISBI 2019, arXiv:1810.07842; code: "
        "github.com/nabsabraham/focal-tversky-unet"
    )

    def __init__(self, *, alpha: float = 0.3, beta: float = 0.7, gamma: float = 4.0 / 3.0,
                 smooth: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(smooth=smooth, reduction=reduction)
        self.alpha, self.beta, self.gamma = alpha, beta, gamma

    def from_sums(self, sums: ClassSums) -> Tensor:
        rest = 1.0 - tversky_index(sums, self.alpha, self.beta, self.smooth)
        tiny = torch.finfo(rest.dtype).tiny
        # x^(1/γ) has an infinite slope at 0 for γ > 1: below tiny, 0 and no gradient.
        focal = torch.where(rest >= tiny, rest.clamp_min(tiny).pow(1.0 / self.gamma), 0.0)
        return focal.mean(dim=-1)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, gamma={self.gamma}, {super().extra_repr()}"
