"""Balanced Softmax (docs/losses.md, "The rest of the field")."""

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


@LOSSES.register("balanced_softmax", rules={"reduction": REDUCTION})
class BalancedSoftmax(Loss):
    """Balanced Softmax (Ren et al., NeurIPS 2020): cross-entropy on ``z + log n``, ``n`` the
    training class counts, so the softmax models the training prior and the raw ``z`` a
    balanced one."""

    name = "balanced_softmax"
    title = "Balanced Softmax"
    source = (
        "Ren, Yu, Sheng, Ma, Zhao, Yi, Li, 'Balanced Meta-Softmax for Long-Tailed Visual "
        "Recognition', NeurIPS 2020"
    )
    needs_class_counts = True

    def __init__(
        self, *, class_counts: Sequence[int] | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction=reduction)
        if class_counts is None:
            raise ConfigError(
                f"loss '{self.name}' needs class_counts (one training count per class)"
            )
        self.register_buffer(
            "log_counts", as_buffer(np.log(as_class_counts(class_counts, owner=self.name)))
        )

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        check_size(self.log_counts, logits, owner=self.name, what="class_counts")
        return cross_entropy(logits + like(self.log_counts, logits), targets)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        # The shift does not depend on z: the gradient is CE's at the shifted logits.
        check_size(self.log_counts, logits, owner=self.name, what="class_counts")
        return cross_entropy_grad(Softmax.of(logits + like(self.log_counts, logits), targets))
