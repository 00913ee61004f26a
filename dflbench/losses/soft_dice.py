"""Soft Dice loss, multi-class (docs/losses.md, "Region losses")."""

from __future__ import annotations

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._region import REGION_REDUCTION, SMOOTH, ClassSums, RegionLoss, dice_index


@LOSSES.register("soft_dice", rules={"smooth": SMOOTH, "reduction": REGION_REDUCTION})
class SoftDiceLoss(RegionLoss):
    """Soft Dice loss (Milletari et al., 3DV 2016), averaged over classes: per model, over the
    kept samples (pixels) of the batch, ``D_c = (2 Σ_n p_nc t_nc + ε) / (Σ_n p_nc + Σ_n t_nc + ε)``
    and ``loss = 1 − (1/C) Σ_c D_c``, ``p = softmax(z)``, ``ε = smooth``.

    A region loss: one value per model, no per-sample values, reduction ``mean`` only. Every class
    counts, background and classes absent from the batch included; ``smooth = 1`` scores an absent
    class that gets no predicted mass as a perfect 1.
    """

    name = "soft_dice"
    title = "Soft Dice loss"
    source = (
        "Milletari, Navab, Ahmadi, 'V-Net: Fully Convolutional Neural Networks for Volumetric "
        "Medical Image Segmentation', 3DV 2016, arXiv:1606.04797 (multi-class mean, additive "
        "smoothing ε)"
    )

    def __init__(self, *, smooth: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(smooth=smooth, reduction=reduction)

    def from_sums(self, sums: ClassSums) -> Tensor:
        return 1.0 - dice_index(sums, self.smooth).mean(dim=-1)
