"""Dual Focal Loss of Hossain, Betts and Paplinski: the seed loss of dflbench (docs/losses.md)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from dflbench.losses import LOSSES
from dflbench.losses._base import ClosedForm, Loss, Softmax, log_probs, softmax_backward
from dflbench.losses._params import REDUCTION
from dflbench.params import Rule


def dual_focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float | Tensor = 1.0,
    rho: float = 1.0,
    theta: float = 1e-3,
) -> Tensor:
    """Per-sample DFL ``l_n = sum_c l_nc`` with
    ``l_nc = -[t log max(p, theta) + beta (1 - t) log max(rho - p, theta) - alpha |t - p|^gamma]``.

    ``gamma`` may be a tensor broadcastable against the (..., N, C) logits (the learnable variant).
    """
    log_p = log_probs(logits)
    p = log_p.exp()
    t = F.one_hot(targets, logits.shape[-1]).to(log_p.dtype)
    # log max(p, theta) == max(log p, log theta): stays on the stable log-softmax.
    true_term = t * log_p.clamp_min(math.log(theta))
    false_term = beta * (1.0 - t) * torch.log((rho - p).clamp_min(theta))
    # |t - p| is exactly 0 for saturated logits; clamping keeps the gradient of x^gamma finite
    # (gamma < 1) without changing the value (tiny^gamma is 0 to working precision).
    focal_term = alpha * (t - p).abs().clamp_min(torch.finfo(p.dtype).tiny).pow(gamma)
    return -(true_term + false_term - focal_term).sum(dim=-1)


def dual_focal_grad(
    softmax: Softmax,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float | Tensor = 1.0,
    rho: float = 1.0,
    theta: float = 1e-3,
    gamma_grad: bool = False,
) -> ClosedForm:
    """``dual_focal_loss`` with its gradient written out. With ``p = softmax(z)``:

    - the true-class term ``-log max(p_y, theta)`` gives ``p - t`` (zero where clamped);
    - the other terms depend on ``p`` only, ``d l / d p_c = beta (1 - t_c) / (rho - p_c)`` (zero
      where clamped) ``+ alpha gamma |t_c - p_c|^(gamma - 1) sign(p_c - t_c)``, which
      :func:`softmax_backward` carries to the logits.

    ``gamma_grad`` adds ``d l_n / d gamma = alpha sum_c |t_c - p_c|^gamma log |t_c - p_c|`` to
    ``param_grads`` under the key ``"gamma"``.
    """
    # Written for few operations: the engine runs this on every step, and on small batches each
    # operation's fixed cost dominates (benchmarks/bench_engine.py).
    p, p_minus_t = softmax.p, softmax.p_minus_t
    false = 1.0 - softmax.t
    log_theta = math.log(theta)
    tiny = torch.finfo(p.dtype).tiny
    rest = rho - p
    kept = rest.clamp_min(theta)
    distance = p_minus_t.abs()
    base = distance.clamp_min(tiny)
    # focal = |t - p|^gamma and its slope alpha gamma |t - p|^(gamma - 1).
    log_base: Tensor | None = None
    power: Tensor | None = None  # |t - p|^(gamma - 1); None for gamma 1
    if isinstance(gamma, Tensor) or gamma_grad:
        log_base = base.log()  # also d focal / d gamma's
        power = torch.exp((gamma - 1.0) * log_base)
    elif gamma != 1.0:
        power = base.pow(gamma - 1.0)
    if power is None:
        focal, slope = base, p_minus_t.sign().mul_(alpha)
    else:
        focal = power * base
        slope = power.mul_(alpha * gamma).mul_(p_minus_t.sign())
        below_one = bool((gamma < 1.0).any()) if isinstance(gamma, Tensor) else gamma < 1.0
        if below_one:
            # Where the forward's clamp at tiny holds there is no gradient; below gamma 1 the
            # slope there (tiny^(gamma - 1)) is large enough to matter.
            slope.mul_(distance >= tiny)
    # The true class's term is -log max(p_t, theta), the others' -beta log max(rho - p, theta).
    log_pt = softmax.log_pt
    false_log = false * kept.log()
    loss = torch.sub(focal if alpha == 1.0 else alpha * focal, false_log, alpha=beta).sum(dim=-1)
    loss -= log_pt.clamp_min(log_theta)
    grad_p = ((rest >= theta) * false).div_(kept)
    if beta != 1.0:
        grad_p.mul_(beta)
    grad = softmax_backward(p, grad_p.add_(slope))
    grad.addcmul_((log_pt >= log_theta).unsqueeze(-1).to(p.dtype), p_minus_t)
    params = {"gamma": alpha * (focal * log_base).sum(dim=-1)} if gamma_grad and log_base is not None else {}
    return ClosedForm(loss, grad, params)


#: The rules of the DFL parameters shared by ``dual_focal`` and ``dual_focal_learnable``.
DFL_RULES = {"alpha": Rule(float, ge=0), "beta": Rule(float, ge=0), "rho": Rule(float, gt=0),
             "theta": Rule(float, gt=0, lt=1), "reduction": REDUCTION}


def dfl_constants(loss: Loss) -> dict[str, float]:
    """The DFL parameters other than gamma of a loss that holds them (both DFL variants)."""
    return {name: getattr(loss, name) for name in ("alpha", "beta", "rho", "theta")}


@LOSSES.register("dual_focal", rules={**DFL_RULES, "gamma": Rule(float, ge=0)})
class DualFocalLoss(Loss):
    """Dual Focal Loss (Hossain, Betts, Paplinski, Neurocomputing 462, 2021):

    ``l_n = -sum_c [t log max(p, theta) + beta (1 - t) log max(rho - p, theta)
    - alpha |t - p|^gamma]``. The focal-style term is *added* (note the sign), on true and false
    classes alike, so the gradient does not vanish on easy examples. Defaults follow the authors'
    code (``dfl_loss_function.m``): ``alpha = beta = gamma = rho = 1``, ``theta = 1e-3``.
    """

    name = "dual_focal"
    title = "Dual Focal Loss (Hossain et al.)"
    source = (
        "Hossain, Betts, Paplinski, 'Dual Focal Loss to address class imbalance in semantic "
        "segmentation', Neurocomputing 462 (2021), doi:10.1016/j.neucom.2021.07.055; "
        "code: github.com/mhos0007/Dual_Focal_Loss"
    )

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        beta: float = 1.0,
        gamma: float = 1.0,
        rho: float = 1.0,
        theta: float = 1e-3,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        self.alpha, self.beta, self.rho, self.theta = alpha, beta, rho, theta
        self.gamma = gamma

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        return dual_focal_loss(logits, targets, gamma=self.gamma, **dfl_constants(self))

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm:
        return dual_focal_grad(softmax, gamma=self.gamma, **dfl_constants(self))

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, gamma={self.gamma}, rho={self.rho}, "
            f"theta={self.theta}, {super().extra_repr()}"
        )
