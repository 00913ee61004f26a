"""Dual Focal Loss with a learnable gamma: the "auto-tunable" DFL of the arXiv abstract
(docs/losses.md). The parametrisation is dflbench's own; no surviving source fixes one."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dflbench.errors import ConfigError
from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax
from dflbench.losses._params import n_models as check_n_models
from dflbench.losses._params import number
from dflbench.losses.dual_focal import DFL_RULES, dfl_constants, dual_focal_grad, dual_focal_loss
from dflbench.params import Rule


@LOSSES.register("dual_focal_learnable", rules={**DFL_RULES, "gamma_min": Rule(float, ge=0)})
class LearnableDualFocalLoss(Loss):
    """Dual Focal Loss (Hossain, Betts, Paplinski, Neurocomputing 462, 2021) whose ``gamma`` is
    trained by backpropagation with the model: ``gamma = gamma_min + (gamma_max - gamma_min) *
    sigmoid(r)``, ``r`` a trainable parameter initialised so that ``gamma = gamma_init``.

    ``n_models=None`` gives one scalar ``r``; ``n_models=K`` gives ``r`` of shape (K,), one gamma
    per stacked model, for (K, N, C) logits. At initialisation (gamma 1) it equals ``dual_focal``.
    Minimising the training loss over gamma alone pushes gamma up, so record ``learned()``.
    """

    name = "dual_focal_learnable"
    title = "Dual Focal Loss, learnable gamma"
    source = (
        "Hossain, Betts, Paplinski, Neurocomputing 462 (2021) and arXiv 1909.11932 ('auto-tunable' "
        "gamma); the sigmoid parametrisation of gamma is dflbench's own"
    )

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        beta: float = 1.0,
        rho: float = 1.0,
        theta: float = 1e-3,
        gamma_init: float = 1.0,
        gamma_min: float = 0.5,
        gamma_max: float = 5.0,
        n_models: int | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        self.alpha, self.beta, self.rho, self.theta = alpha, beta, rho, theta
        self.gamma_min = float(gamma_min)
        # gamma_max and gamma_init are bounded by the other values: checked here, not by a rule.
        self.gamma_max = number(self.name, "gamma_max", gamma_max, gt=self.gamma_min)
        self.gamma_init = number(
            self.name, "gamma_init", gamma_init, gt=self.gamma_min, lt=self.gamma_max
        )
        self.n_models = check_n_models(self.name, n_models)
        fraction = (self.gamma_init - self.gamma_min) / (self.gamma_max - self.gamma_min)
        r0 = math.log(fraction) - math.log1p(-fraction)  # logit: sigmoid(r0) == fraction
        shape = () if self.n_models is None else (self.n_models,)
        self.r = nn.Parameter(torch.full(shape, r0))

    def gamma(self) -> Tensor:
        """Current gamma(s), differentiable: a scalar, or one per stacked model."""
        return self.gamma_min + (self.gamma_max - self.gamma_min) * torch.sigmoid(self.r)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        gamma = self._per_model(self.gamma().to(logits.dtype), logits)
        return dual_focal_loss(logits, targets, gamma=gamma, **dfl_constants(self))

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        s = torch.sigmoid(self.r.detach()).to(logits.dtype)
        span = self.gamma_max - self.gamma_min
        gamma = self._per_model(self.gamma_min + span * s, logits)
        closed = dual_focal_grad(softmax, gamma=gamma, gamma_grad=True, **dfl_constants(self))
        # d gamma / d r = (gamma_max - gamma_min) sigmoid(r) (1 - sigmoid(r)), against the
        # per-sample (K, ..., N) gradient with respect to gamma.
        d_gamma = self._per_model(span * s * (1.0 - s), logits).squeeze(-1)
        return ClosedForm(closed.loss, closed.logits_grad, {"r": closed.param_grads["gamma"] * d_gamma})

    def _per_model(self, values: Tensor, logits: Tensor) -> Tensor:
        """Per-model ``values`` (K,) shaped to broadcast against (K, ..., N, C) logits."""
        if self.n_models is None:
            return values
        if logits.dim() < 3 or logits.shape[0] != self.n_models:
            raise ConfigError(
                f"loss '{self.name}' was built for n_models={self.n_models} and expects logits "
                f"of shape ({self.n_models}, N, C); got {tuple(logits.shape)}"
            )
        return values.reshape(self.n_models, *([1] * (logits.dim() - 1)))

    def learned(self) -> dict[str, Tensor]:
        return {"gamma": self.gamma().detach().clone()}

    def extra_repr(self) -> str:
        return (
            f"gamma in [{self.gamma_min}, {self.gamma_max}], n_models={self.n_models}, "
            f"{super().extra_repr()}"
        )
