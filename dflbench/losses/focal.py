"""Focal loss, softmax form (docs/losses.md, "The losses of the Dual Focal Loss paper")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dflbench.errors import ConfigError
from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, gather_target, like, log_probs, one_minus_p
from dflbench.losses._params import REDUCTION
from dflbench.losses._weights import SCHEMES, ClassWeighting, WeightSpec, as_buffer, check_size
from dflbench.params import Rule


def focal_loss(
    logits: Tensor, targets: Tensor, *, gamma: float = 2.0, alpha: Tensor | None = None
) -> Tensor:
    """Per-sample ``-a[y] (1 - p_t)^gamma log p_t`` (``a = 1`` when ``alpha`` is None)."""
    log_pt = gather_target(log_probs(logits), targets)
    # Clamp away from 0 so (1 - p_t)^gamma has a finite gradient for gamma < 1 when p_t == 1.
    modulator = one_minus_p(log_pt).clamp_min(torch.finfo(log_pt.dtype).tiny).pow(gamma)
    loss = -modulator * log_pt
    if alpha is not None:
        loss = like(alpha, logits)[targets] * loss
    return loss


def focal_grad(softmax: Softmax, *, gamma: float = 2.0, alpha: Tensor | None = None) -> ClosedForm:
    """``focal_loss`` with its gradient ``(d l / d log p_t) (t - p)``, where
    ``d l / d log p_t = a[y] (gamma p_t (1 - p_t)^(gamma - 1) log p_t - (1 - p_t)^gamma)``
    (the ``(1 - p_t)`` factor carries the forward's clamp: no gradient through it below ``tiny``)."""
    log_pt = softmax.log_pt
    tiny = torch.finfo(log_pt.dtype).tiny
    rest = one_minus_p(log_pt)
    clamped = rest.clamp_min(tiny)
    # modulator (1 - p_t)^gamma and its slope gamma (1 - p_t)^(gamma - 1).
    if gamma == 2.0:
        modulator, slope = clamped * clamped, 2.0 * clamped
    else:
        power = clamped.pow(gamma - 1.0)
        modulator, slope = power * clamped, gamma * power
        if gamma < 1.0:  # no gradient where the clamp holds; below gamma 1 the slope there is large
            slope.mul_(rest >= tiny)
    loss = torch.mul(modulator, log_pt).neg_()
    # d l / d log p_t = -modulator + slope p_t log p_t, as d(1 - p_t) / d log p_t = -p_t.
    minus_d_log_pt = torch.addcmul(modulator, slope.mul_(log_pt.exp()), log_pt, value=-1.0)
    if alpha is not None:
        a = like(alpha, log_pt)[softmax.targets]
        loss, minus_d_log_pt = a * loss, a * minus_d_log_pt
    # d log p_t / d z = t - p.
    return ClosedForm(loss, minus_d_log_pt.unsqueeze(-1) * softmax.p_minus_t, {})


@LOSSES.register("focal", rules={"gamma": Rule(float, ge=0), "reduction": REDUCTION})
class FocalLoss(Loss):
    """Focal loss (Lin et al., ICCV 2017), softmax form: ``l_n = -a[y] (1 - p_t)^gamma log p_t``.

    ``alpha``: None (``a = 1``), a per-class list (used as given), or a weighting scheme name as
    in ``weighted_ce`` (``"effective"`` gives the class-balanced focal loss of Cui et al., CVPR
    2019; a scheme needs ``class_counts``). The mean is a plain mean even with ``alpha``.
    """

    name = "focal"
    title = "Focal loss"
    source = "Lin, Goyal, Girshick, He, Dollár, 'Focal Loss for Dense Object Detection', ICCV 2017"

    def __init__(
        self,
        *,
        gamma: float = 2.0,
        alpha: WeightSpec | None = None,
        beta: float = 0.9999,
        class_counts: Sequence[int] | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        self.gamma = gamma
        if alpha is None:
            self.register_buffer("alpha", None)
            return
        if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
            raise ConfigError(
                f"loss 'focal': parameter 'alpha' must be None, a list of one weight per class or "
                f"one of {', '.join(SCHEMES)} (got the scalar {alpha!r}; the binary alpha of the "
                f"sigmoid form has no softmax meaning)"
            )
        weighting = ClassWeighting.parse(alpha, beta=beta, owner=self.name, param="alpha")
        if weighting.needs_counts and class_counts is None:
            raise ConfigError(
                f"loss 'focal' with alpha='{alpha}' needs class_counts (one training count per "
                f"class); pass them or give alpha as a list"
            )
        self.register_buffer(
            "alpha", as_buffer(weighting.weights(class_counts, owner=self.name, param="alpha"))
        )

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        if self.alpha is not None:
            check_size(self.alpha, logits, owner=self.name, what="alpha")
        return focal_loss(logits, targets, gamma=self.gamma, alpha=self.alpha)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        if self.alpha is not None:
            check_size(self.alpha, logits, owner=self.name, what="alpha")
        return focal_grad(softmax, gamma=self.gamma, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, {super().extra_repr()}"
