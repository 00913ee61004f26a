"""LDAM loss with optional deferred re-weighting (docs/losses.md, "The rest of the field")."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from dflbench.errors import ConfigError
from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, like
from dflbench.losses._params import REDUCTION
from dflbench.losses._weights import ClassWeighting, as_buffer, as_class_counts, check_size
from dflbench.losses.ce import cross_entropy, cross_entropy_grad
from dflbench.params import Rule


def ldam_margins(class_counts: Sequence[float], max_m: float = 0.5) -> list[float]:
    """``Delta_c ∝ n_c^(-1/4)`` scaled so that ``max_c Delta_c = max_m`` (float64)."""
    counts = as_class_counts(class_counts, owner="ldam")
    delta = counts**-0.25
    return (delta * (max_m / delta.max())).tolist()


@LOSSES.register("ldam", rules={"max_m": Rule(float, gt=0), "s": Rule(float, gt=0),
                                "drw_start": Rule(float, gt=0, lt=1, nullable=True),
                                "reduction": REDUCTION})
class LDAMLoss(Loss):
    """LDAM (Cao et al., NeurIPS 2019): cross-entropy on ``s (z - Delta_y e_y)`` with
    ``Delta_c ∝ n_c^(-1/4)``, ``max Delta = max_m``. Meant for cosine logits in [-1, 1]
    (``head = "cosine"``); the loss itself takes whatever logits it is given.

    ``drw_start`` (a fraction of the epochs, e.g. 0.8 for the official 160 of 200) enables
    deferred re-weighting: from that epoch on, ``effective`` class weights (``beta``) and the
    weighted-mean reduction. The trainer signals epochs through :meth:`start_epoch`.
    """

    name = "ldam"
    title = "LDAM (label-distribution-aware margin)"
    source = (
        "Cao, Wei, Gaidon, Arechiga, Ma, 'Learning Imbalanced Datasets with Label-Distribution-"
        "Aware Margin Loss', NeurIPS 2019"
    )
    needs_class_counts = True
    head = "cosine"

    def __init__(
        self,
        *,
        max_m: float = 0.5,
        s: float = 30.0,
        drw_start: float | None = None,
        beta: float = 0.9999,
        class_counts: Sequence[int] | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        self.max_m, self.s = max_m, s
        self.drw_start = (
            drw_start
        )
        if class_counts is None:
            raise ConfigError(
                f"loss '{self.name}' needs class_counts (one training count per class)"
            )
        self.register_buffer("margins", as_buffer(ldam_margins(class_counts, self.max_m)))
        weighting = ClassWeighting.parse("effective", beta=beta, owner=self.name, param="beta")
        self.register_buffer(
            "drw_weight", as_buffer(weighting.weights(class_counts, owner=self.name))
        )
        self.drw_active = False

    def start_epoch(self, epoch: int, n_epochs: int) -> None:
        """Switch DRW on from epoch ``ceil(drw_start * n_epochs)`` (0-based), e.g. 160 of 200."""
        if n_epochs < 1 or not 0 <= epoch:
            raise ValueError(
                f"start_epoch needs 0 <= epoch and n_epochs >= 1 (got {epoch}, {n_epochs})"
            )
        if self.drw_start is not None:
            # The small tolerance keeps 0.8 * 200 from landing on 160.00000000000003.
            self.drw_active = epoch >= math.ceil(self.drw_start * n_epochs - 1e-9)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return cross_entropy(self.s * self._shifted(logits, targets), targets)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        shifted = Softmax.of(self.s * self._shifted(logits, targets), targets)
        return cross_entropy_grad(shifted, scale=self.s)

    def _shifted(self, logits: Tensor, targets: Tensor) -> Tensor:
        """``z - Delta_y e_y``: the true class's logit lowered by its margin."""
        check_size(self.margins, logits, owner=self.name, what="class_counts")
        margins = like(self.margins, logits)
        return logits - F.one_hot(targets, logits.shape[-1]).to(logits.dtype) * margins

    def probabilities(self, logits: Tensor) -> Tensor:
        """``softmax(s z)``: the model was trained through the scale ``s``; cosine logits in
        [-1, 1] alone would give near-uniform probabilities (same argmax)."""
        return torch.softmax(self.s * logits, dim=-1)

    def sample_weights(self, targets: Tensor) -> Tensor | None:
        if not self.drw_active:
            return None
        return self.drw_weight.to(targets.device)[targets]

    def extra_repr(self) -> str:
        return f"max_m={self.max_m}, s={self.s}, drw_start={self.drw_start}, {super().extra_repr()}"
