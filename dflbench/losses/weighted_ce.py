"""Class-weighted cross-entropy (docs/losses.md, "The losses of the Dual Focal Loss paper")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax
from dflbench.losses._params import REDUCTION
from dflbench.losses._weights import ClassWeighting, WeightSpec, as_buffer, check_size
from dflbench.losses.ce import cross_entropy, cross_entropy_grad


@LOSSES.register("weighted_ce", rules={"reduction": REDUCTION})
class WeightedCrossEntropy(Loss):
    """Weighted cross-entropy ``l_n = -w[y_n] log p_t`` with the weighted-mean reduction
    ``sum_n w[y_n] l_n / sum_n w[y_n]``, exactly as ``F.cross_entropy(weight=w)``.

    ``weights``: ``"inverse"`` (``w_c ∝ 1/n_c``, sum C; default), ``"effective"`` (Cui et al.,
    CVPR 2019, with ``beta``), ``"balanced"`` (scikit-learn ``N / (C n_c)``) or an explicit list,
    used as given. ``beta`` only applies to ``"effective"``.
    """

    name = "weighted_ce"
    title = "Class-weighted cross-entropy"
    source = (
        "Class-weighted cross-entropy; 'effective' weights from Cui, Jia, Lin, Song, Belongie, "
        "'Class-Balanced Loss Based on Effective Number of Samples', CVPR 2019"
    )
    needs_class_counts = True

    def __init__(
        self,
        *,
        weights: WeightSpec = "inverse",
        beta: float = 0.9999,
        class_counts: Sequence[int] | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        weighting = ClassWeighting.parse(weights, beta=beta, owner=self.name, param="weights")
        w = weighting.weights(class_counts, owner=self.name, param="weights")
        self.register_buffer("weight", as_buffer(w))

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        check_size(self.weight, logits, owner=self.name, what="weights")
        return cross_entropy(logits, targets)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        check_size(self.weight, logits, owner=self.name, what="weights")
        return cross_entropy_grad(softmax)

    def sample_weights(self, targets: Tensor) -> Tensor:
        return self.weight.to(targets.device)[targets]
