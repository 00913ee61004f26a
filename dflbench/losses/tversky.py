"""Tversky loss (docs/losses.md, "Region losses")."""

from __future__ import annotations

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._region import (
    REGION_REDUCTION,
    SMOOTH,
    ClassSums,
    RegionLoss,
    tversky_index,
)
from dflbench.params import Rule

#: The rules of the Tversky parameters, shared with ``focal_tversky``.
TVERSKY_RULES = {"alpha": Rule(float, ge=0), "beta": Rule(float, ge=0), "smooth": SMOOTH,
                 "reduction": REGION_REDUCTION}


@LOSSES.register("tversky", rules=TVERSKY_RULES)
class TverskyLoss(RegionLoss):
    """Tversky loss (Salehi, Erdogmus, Gholipour, MLMI 2017), averaged over classes: per model,
    over the kept samples of the batch, ``TP_c = Σ_n p_nc t_nc``, ``FP_c = Σ_n p_nc (1 − t_nc)``,
    ``FN_c = Σ_n (1 − p_nc) t_nc``, ``TI_c = (TP_c + ε) / (TP_c + α FP_c + β FN_c + ε)`` and
    ``loss = 1 − (1/C) Σ_c TI_c``.

    ``alpha`` weighs false positives, ``beta`` false negatives; the paper's best, α = 0.3,
    β = 0.7, are the defaults. α = β = 0.5 is soft Dice (with twice the smoothing), α = β = 1 the
    soft Jaccard (IoU) form. A region loss: one value per model, reduction ``mean`` only.
    """

    name = "tversky"
    title = "Tversky loss"
    source = (
        "Salehi, Erdogmus, Gholipour, 'Tversky loss function for image segmentation using 3D "
        "fully convolutional deep networks', MLMI 2017, arXiv:1706.05721"
    )

    def __init__(self, *, alpha: float = 0.3, beta: float = 0.7, smooth: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(smooth=smooth, reduction=reduction)
        self.alpha, self.beta = alpha, beta

    def from_sums(self, sums: ClassSums) -> Tensor:
        return 1.0 - tversky_index(sums, self.alpha, self.beta, self.smooth).mean(dim=-1)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, {super().extra_repr()}"
