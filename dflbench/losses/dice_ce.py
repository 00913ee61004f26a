"""Dice + cross-entropy, nnU-Net's compound loss (docs/losses.md, "Region losses")."""

from __future__ import annotations

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import gather_target, log_probs, masked_mean
from dflbench.losses._region import REGION_REDUCTION, SMOOTH, ClassSums, RegionLoss, dice_index
from dflbench.params import Rule


@LOSSES.register("dice_ce", rules={"dice_weight": Rule(float, ge=0), "ce_weight": Rule(float, ge=0),
                                   "smooth": SMOOTH, "reduction": REGION_REDUCTION})
class DiceCELoss(RegionLoss):
    """Dice + cross-entropy (the compound loss of nnU-Net, Isensee et al., Nature Methods 2021):
    ``loss = ce_weight · (1/N) Σ_n −log p_t + dice_weight · soft_dice``, both over the kept
    samples of the batch, ``soft_dice`` exactly as the ``soft_dice`` loss (with ``smooth``).

    nnU-Net itself leaves the background class out of its Dice term and smooths with 1e-5; here
    the Dice term is ``soft_dice``'s (every class, ε = 1). A region loss: one value per model,
    reduction ``mean`` only.
    """

    name = "dice_ce"
    title = "Dice + cross-entropy"
    source = (
        "Isensee, Jaeger, Kohl, Petersen, Maier-Hein, 'nnU-Net: a self-configuring method for "
        "deep learning-based biomedical image segmentation', Nature Methods 18 (2021); Dice term "
        "as soft_dice (Milletari et al., 3DV 2016)"
    )

    def __init__(self, *, dice_weight: float = 1.0, ce_weight: float = 1.0, smooth: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(smooth=smooth, reduction=reduction)
        self.dice_weight, self.ce_weight = dice_weight, ce_weight

    def forward(self, logits: Tensor, targets: Tensor, mask: Tensor | None = None) -> Tensor:
        log_p = log_probs(logits)  # shared by both terms
        ce = masked_mean(-gather_target(log_p, targets), mask)
        dice = 1.0 - dice_index(ClassSums.of(logits, targets, mask, log_p), self.smooth).mean(dim=-1)
        return self.ce_weight * ce + self.dice_weight * dice

    def extra_repr(self) -> str:
        return (f"dice_weight={self.dice_weight}, ce_weight={self.ce_weight}, "
                f"{super().extra_repr()}")
