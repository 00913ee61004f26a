"""The contract every dflbench loss follows (docs/losses.md).

A loss takes logits ``z`` of shape (..., N, C) and integer targets ``y`` of shape (..., N). Leading
dimensions are independent models (the batched engine trains K models at once, so (K, N, C)); the
reduction runs over the sample axis only, so ``mean`` on (K, N, C) returns K per-model losses.

An optional ``mask``, a bool tensor of the targets' shape (False: an ignored sample, e.g. a
segmentation pixel with the ignore label, whose target holds a placeholder valid class), makes
every loss equal the same loss on the kept samples alone, per model: ``mean`` over the kept
samples (weighted by ``sample_weights`` if any), ``sum`` over them, ``none`` with 0 at ignored
ones; the logits' gradient is exactly 0 at ignored samples, and trainable loss parameters get
gradient from kept samples only. A model with no kept sample gets 0 (value and gradients).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from dflbench.errors import ConfigError

REDUCTIONS = ("mean", "sum", "none")


def check_mask(mask: Tensor, targets: Tensor) -> Tensor:
    """``mask`` if it is a bool tensor of the targets' shape, else a ValueError."""
    if mask.dtype != torch.bool or mask.shape != targets.shape:
        raise ValueError(
            f"mask must be a bool tensor of the targets' shape {tuple(targets.shape)} "
            f"(got {mask.dtype} of shape {tuple(mask.shape)})"
        )
    return mask


def kept_weights(mask: Tensor, weights: Tensor | None, dtype: torch.dtype) -> Tensor:
    """Each sample's weight in a masked reduction: ``w[y_n]`` (or 1) where kept, 0 where ignored."""
    keep = mask.to(dtype)
    return keep if weights is None else weights.to(dtype) * keep


def mean_denominator(kept: Tensor, mask: Tensor, keepdim: bool = False) -> Tensor:
    """``sum_n kept_n`` per model, 1 where a model keeps no sample (its masked mean is then 0,
    not 0/0: a crop that is all ignore label must not turn a model's weights into NaN)."""
    total = kept.sum(dim=-1, keepdim=keepdim)
    return torch.where(mask.any(dim=-1, keepdim=keepdim), total, 1.0)


def masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """Per-model mean of (..., N) ``values`` over the kept samples (all when ``mask`` is None).

    Written as ``mean * (N / kept)``: with every sample kept the factor is exactly 1, so the
    result is ``values.mean(-1)`` bit for bit on any device (CUDA's mean multiplies the sum by
    ``1/N``, the CPU's divides it by ``N``)."""
    if mask is None:
        return values.mean(dim=-1)
    kept = mean_denominator(mask.to(values.dtype), mask)
    return torch.where(mask, values, 0.0).mean(dim=-1) * (values.shape[-1] / kept)


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if valid, else raise a ValueError listing the valid ones."""
    if reduction not in REDUCTIONS:
        raise ConfigError(
            f"invalid reduction '{reduction}' (valid: {', '.join(REDUCTIONS)})"
        )
    return reduction


class ClosedForm(NamedTuple):
    """A per-sample loss with its gradients written out (see :meth:`Loss.per_sample_grad`).

    ``loss``: ``l_n``, shape (..., N); ``logits_grad``: ``d l_n / d z_n``, shape (..., N, C);
    ``param_grads``: for each trainable parameter (by attribute name), ``d l_n / d param``
    broadcast to (..., N), where the parameter holds one value per model or a single value.
    """

    loss: Tensor
    logits_grad: Tensor
    param_grads: dict[str, Tensor]


class Softmax(NamedTuple):
    """What every closed form starts from: ``log p``, ``p``, the one-hot ``t`` and ``p - t`` for a
    batch of logits (..., N, C) and its targets (..., N). The batched engine computes it once per
    step for all stacked models and hands each loss its rows (:meth:`rows`, views)."""

    log_p: Tensor
    p: Tensor
    t: Tensor
    p_minus_t: Tensor
    targets: Tensor

    @classmethod
    def of(cls, logits: Tensor, targets: Tensor) -> Softmax:
        log_p = log_probs(logits)
        p = log_p.exp()
        t = one_hot(targets, p)
        return cls(log_p, p, t, p - t, targets)

    def rows(self, index: slice) -> Softmax:
        """The same terms for the models ``index`` of the leading (model) axis."""
        return Softmax(*(x[index] for x in self))

    @property
    def log_pt(self) -> Tensor:
        """``log p_t``, shape (..., N)."""
        return gather_target(self.log_p, self.targets)


class Loss(nn.Module):
    """Base class: subclasses implement ``per_sample`` and, if weighted, ``sample_weights``;
    they may also write out its gradient (``per_sample_grad``) for trainers that skip autograd.

    Class attributes describe what the trainer must provide, so it never special-cases a loss by
    name: ``needs_class_counts`` (counts of the fitted training rows are passed as
    ``class_counts``), ``head`` (``"linear"`` logits or ``"cosine"`` normalised logits).
    ``region`` marks a set-level loss (soft Dice, Tversky, ...): its value is computed from sums
    over all the samples (pixels) of a model's batch, so it has no per-sample values, only the
    reduction ``mean``, and ``forward`` returns one value per model, shape (...); it overrides
    ``forward`` (honouring ``mask``) instead of ``per_sample`` (:mod:`dflbench.losses._region`).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    needs_class_counts: ClassVar[bool] = False
    head: ClassVar[str] = "linear"
    region: ClassVar[bool] = False

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Unweighted per-sample loss ``l_n``, shape ``targets.shape``."""
        raise NotImplementedError

    def sample_weights(self, targets: Tensor) -> Tensor | None:
        """Per-sample weights ``w[y_n]`` for a weighted-mean reduction, or None for a plain mean."""
        return None

    def forward(self, logits: Tensor, targets: Tensor, mask: Tensor | None = None) -> Tensor:
        """The reduced loss; ``mask`` (bool, the targets' shape, False = ignored) restricts it to
        the kept samples (module docstring)."""
        loss = self.per_sample(logits, targets)
        weights = self.sample_weights(targets)
        if weights is not None:
            # Buffers may be float32 while the logits are float64 (or the reverse): follow the loss.
            weights = weights.to(loss.dtype)
            loss = loss * weights
        if mask is not None:
            # torch.where, not a product: an ignored sample's value never reaches the result.
            loss = torch.where(check_mask(mask, targets), loss, 0.0)
            if self.reduction == "none":
                return loss
            if self.reduction == "sum":
                return loss.sum(dim=-1)
            if weights is None:
                return masked_mean(loss, mask)
            return loss.sum(dim=-1) / mean_denominator(kept_weights(mask, weights, loss.dtype), mask)
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum(dim=-1)
        if weights is not None:
            # Weighted mean, exactly as torch.nn.functional.cross_entropy(weight=w).
            return loss.sum(dim=-1) / weights.sum(dim=-1)
        return loss.mean(dim=-1)

    def per_sample_grad(self, logits: Tensor, targets: Tensor, softmax: Softmax) -> ClosedForm | None:
        """``l_n`` of :meth:`per_sample` with its gradients in closed form, or None (the default):
        then :meth:`loss_and_grad` uses autograd. ``softmax`` holds the softmax terms of
        ``logits``. A closed form saves the batched engine most of a loss's small operations;
        it must equal autograd's gradient (tests/unit/losses/test_loss_closed_form.py)."""
        return None

    def loss_and_grad(
        self, logits: Tensor, targets: Tensor, softmax: Softmax | None = None,
        out: Tensor | None = None, mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``self(logits, targets, mask=mask)`` and the gradient of its sum with respect to the
        logits (exactly 0 at samples the ``mask`` ignores).

        Gradients of trainable loss parameters are accumulated into their ``.grad``, as
        ``backward()`` would. Uses :meth:`per_sample_grad` when the loss has one, else autograd;
        ``softmax`` may pass the logits' :class:`Softmax` when the caller has it already, and
        ``out`` a tensor (a slice of the caller's buffer, say) to write the gradient into.
        """
        logits = logits.detach()
        closed = (self.per_sample_grad(logits, targets, softmax or Softmax.of(logits, targets))
                  if self.has_closed_form else None)
        if closed is None:
            with torch.enable_grad():
                z = logits.requires_grad_()
                loss = self(z, targets) if mask is None else self(z, targets, mask=mask)
                loss.sum().backward()
            assert z.grad is not None
            return loss.detach(), z.grad if out is None else out.copy_(z.grad)
        # d reduced / d l_n: 1/N for a plain mean, w[y_n] / sum w for a weighted one, w[y_n] or 1
        # for "sum" and "none"; with a mask, the same over the kept samples and 0 at ignored ones.
        weights = self.sample_weights(targets)
        scale: Tensor | float
        if mask is not None:
            kept = kept_weights(check_mask(mask, targets), weights, closed.loss.dtype)
            scale = (kept / mean_denominator(kept, mask, keepdim=True)
                     if self.reduction == "mean" else kept)
        elif weights is None:
            scale = 1.0 / closed.loss.shape[-1] if self.reduction == "mean" else 1.0
        else:
            weights = weights.to(closed.loss.dtype)
            scale = weights / weights.sum(dim=-1, keepdim=True) if self.reduction == "mean" else weights
        loss = closed.loss * scale
        if self.reduction != "none":
            loss = loss.sum(dim=-1)
        scale_grad = scale.unsqueeze(-1) if isinstance(scale, Tensor) else scale
        for name, grad in closed.param_grads.items():
            param = getattr(self, name)
            total = (grad * scale).sum(dim=-1).sum_to_size(param.shape).to(param.dtype)
            if param.grad is None:
                param.grad = total
            else:
                param.grad.add_(total)
        if out is None:
            return loss, closed.logits_grad * scale_grad
        return loss, torch.mul(closed.logits_grad, scale_grad, out=out)

    @property
    def has_closed_form(self) -> bool:
        """Whether the class writes out :meth:`per_sample_grad`: only then are the softmax terms
        worth computing (a loss without one is differentiated by autograd)."""
        return type(self).per_sample_grad is not Loss.per_sample_grad

    def learned(self) -> dict[str, Tensor]:
        """Values of trainable loss parameters (e.g. DFL's gamma), one per model; empty if none."""
        return {}

    def probabilities(self, logits: Tensor) -> Tensor:
        """Class probabilities the trained model predicts from its logits (softmax by default)."""
        return torch.softmax(logits, dim=-1)

    def start_epoch(self, epoch: int, n_epochs: int) -> None:
        """Hook called by the trainer before each epoch (e.g. deferred re-weighting); default none."""

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def log_probs(logits: Tensor) -> Tensor:
    """Numerically stable log-softmax over the class axis.

    PyTorch's CPU kernel vectorises along the innermost axis, so with a few classes it is far
    faster to run it with the classes as the second-to-last axis. Measured on (30, 256, C) float32
    on one core: C = 5, 620 µs as ``log_softmax(dim=-1)`` against 150 µs so (80 µs on the
    engine's class-major logits); from about 16 classes on, the plain call wins on rows laid out
    class-last.
    """
    if logits.dim() >= 2 and (logits.stride(-1) != 1 or logits.shape[-1] <= 10):
        return torch.log_softmax(logits.transpose(-1, -2), dim=-2).transpose(-1, -2)
    return torch.log_softmax(logits, dim=-1)


def gather_target(values: Tensor, targets: Tensor) -> Tensor:
    """``values[..., n, y_n]`` for (..., N, C) values and (..., N) targets."""
    return values.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def like(values: Tensor, logits: Tensor) -> Tensor:
    """A per-class buffer on the logits' device and dtype (buffers are stored in float32)."""
    return values.to(device=logits.device, dtype=logits.dtype)


def one_hot(targets: Tensor, ref: Tensor) -> Tensor:
    """The one-hot of (..., N) ``targets`` in the shape, dtype and layout of (..., N, C) ``ref``."""
    return torch.zeros_like(ref).scatter_(-1, targets.unsqueeze(-1), 1.0)


def softmax_backward(p: Tensor, grad_p: Tensor) -> Tensor:
    """``d l / d z`` from ``d l / d p`` for ``p = softmax(z)``: ``p (g - sum_c p_c g_c)``."""
    return p * (grad_p - (p * grad_p).sum(dim=-1, keepdim=True))


def one_minus_p(log_p: Tensor) -> Tensor:
    """``1 - p`` from ``log p``, accurate when ``p`` is close to 1 (``-expm1(log p)``)."""
    return -torch.expm1(log_p)
