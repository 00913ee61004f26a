"""Logit-adjusted cross-entropy (docs/losses.md, "The rest of the field")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from dflbench.errors import ConfigError
from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, like
from dflbench.losses._params import REDUCTION
from dflbench.losses._weights import as_buffer, as_class_counts, check_size
from dflbench.losses.ce import cross_entropy, cross_entropy_grad
from dflbench.params import Rule


@LOSSES.register("logit_adjusted", rules={"tau": Rule(float, gt=0), "reduction": REDUCTION})
class LogitAdjusted(Loss):
    """Logit-adjusted loss (Menon et al., ICLR 2021): cross-entropy on ``z + tau log pi``,
    ``pi_c = n_c / sum(n)`` the training prior; ``tau = 1`` equals ``balanced_softmax``."""

    name = "logit_adjusted"
    title = "Logit-adjusted cross-entropy"
    source = (
        "Menon, Jayasumana, Rawat, Jain, Veit, Kumar, 'Long-tail learning via logit adjustment', "
        "ICLR 2021"
    )
    needs_class_counts = True

    def __init__(
        self,
        *,
        tau: float = 1.0,
        class_counts: Sequence[int] | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        self.tau = tau
        if class_counts is None:
            raise ConfigError(
                f"loss '{self.name}' needs class_counts (one training count per class)"
            )
        counts = as_class_counts(class_counts, owner=self.name)
        self.register_buffer("adjustment", as_buffer(self.tau * np.log(counts / counts.sum())))

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        check_size(self.adjustment, logits, owner=self.name, what="class_counts")
        return cross_entropy(logits + like(self.adjustment, logits), targets)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        # The shift does not depend on z: the gradient is CE's at the shifted logits.
        check_size(self.adjustment, logits, owner=self.name, what="class_counts")
        return cross_entropy_grad(Softmax.of(logits + like(self.adjustment, logits), targets))

    def extra_repr(self) -> str:
        return f"tau={self.tau}, {super().extra_repr()}"
