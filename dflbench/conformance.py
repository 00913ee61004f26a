"""The conformance checks every built-in loss passes, run on any loss (``dflbench check-loss``).

Each check returns a :class:`Check` — its name, whether it passed and what it saw — so the CLI only
renders them. The checks: per-sample losses of shape (N,); finite values and gradients at extreme
logits (±1e4) and with class counts down to 1; invariance to adding a constant to every logit;
determinism; a stacked (K, N, C) evaluation equal to K separate ones; samples scored
independently (losses that couple the samples of a batch fail); and a few gradient steps lowering
the loss of a linear model on a separable toy batch.

A region loss (``Loss.region``: soft Dice, Tversky, ...) is computed over the whole batch by
design, so it is checked by what applies to it: one value per model (shape () for one model) in
place of per-sample values, and the independence check does not apply to it (it passes, saying so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from dflbench.losses import Loss
from dflbench.plugins import raised

N, K = 12, 3


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def build(spec: str, params: dict[str, Any], counts: list[int], n_models: int | None = None) -> Loss:
    """The loss ``spec`` (a registered name) with ``params``, ``counts`` and ``n_models``."""
    from dflbench.losses import get_loss

    return get_loss(spec, class_counts=counts, n_models=n_models, **params)


def _batch(n_classes: int, scale: float = 3.0, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, n_classes, generator=g, dtype=torch.float64) * scale
    targets = torch.arange(N) % n_classes
    return logits, targets


def _per_sample(loss: Loss, logits: Tensor, targets: Tensor) -> Tensor:
    """The per-sample losses, or for a region loss its one value per model."""
    logits = logits.to(_dtype(loss))
    return loss(logits, targets) if loss.region else loss.per_sample(logits, targets)


def _dtype(loss: Loss) -> torch.dtype:
    return next((p.dtype for p in loss.parameters()), torch.float64)


def _gap(a: Tensor, b: Tensor) -> tuple[float, float]:
    """The largest difference of two evaluations, and what rounding allows at their precision."""
    gap = float((a.detach() - b.detach()).abs().max())
    scale = max(1.0, float(a.detach().abs().max()))
    return gap, 1e3 * torch.finfo(a.dtype).eps * scale


def check_shape(make: Callable[..., Loss], n_classes: int) -> Check:
    logits, targets = _batch(n_classes)
    loss = make()
    out = _per_sample(loss, logits, targets)
    if loss.region:
        ok = tuple(out.shape) == ()
        return Check("shape", ok, f"a region loss: one value of shape {tuple(out.shape)} for "
                     f"{N} samples" + ("" if ok else " (expected ())"))
    ok = tuple(out.shape) == (N,)
    return Check("shape", ok, f"per-sample losses of shape {tuple(out.shape)} for {N} samples"
                 + ("" if ok else f" (expected ({N},))"))


def check_finite(make: Callable[..., Loss], n_classes: int) -> Check:
    """Values and gradients at ±1e4 logits, with every class count down to 1."""
    for scale in (1e4, -1e4):
        logits, targets = _batch(n_classes, scale=1.0)
        z = (torch.sign(logits) * scale).requires_grad_()
        for loss in (make(), make(counts=[1] * n_classes)):
            value = _per_sample(loss, z, targets)
            grad, = torch.autograd.grad(value.sum(), z)
            if not (torch.isfinite(value).all() and torch.isfinite(grad).all()):
                bad = "value" if not torch.isfinite(value).all() else "gradient"
                return Check("finite", False, f"non-finite {bad} at logits ±{abs(scale):g}")
    return Check("finite", True, "values and gradients finite at logits ±1e4, class counts down to 1")


def check_shift(make: Callable[..., Loss], n_classes: int) -> Check:
    logits, targets = _batch(n_classes)
    loss = make()
    gap, tol = _gap(_per_sample(loss, logits, targets), _per_sample(loss, logits + 7.5, targets))
    return Check("shift", gap <= tol, f"adding 7.5 to every logit changes the losses by {gap:.2e}")


def check_deterministic(make: Callable[..., Loss], n_classes: int) -> Check:
    logits, targets = _batch(n_classes)
    loss = make()
    same = torch.equal(_per_sample(loss, logits, targets), _per_sample(loss, logits, targets))
    return Check("deterministic", same, "two evaluations " + ("agree bit for bit" if same else "differ"))


def check_stacked(make: Callable[..., Loss], n_classes: int) -> Check:
    """A (K, N, C) evaluation (the engine's stack) equals K separate ones."""
    stacked_loss = make(n_models=K)
    parts = [_batch(n_classes, seed=k) for k in range(K)]
    logits = torch.stack([z for z, _ in parts])
    targets = torch.stack([t for _, t in parts])
    stacked = _per_sample(stacked_loss, logits, targets)
    single = make(n_models=1)
    separate = torch.stack([_per_sample(single, z[None], t[None])[0] for z, t in parts])
    if stacked.shape != separate.shape:
        return Check("stacked", False, f"(K, N, C) gives shape {tuple(stacked.shape)}, expected "
                                        f"{tuple(separate.shape)}")
    gap, tol = _gap(stacked, separate)
    return Check("stacked", gap <= tol, f"{K} stacked models vs {K} separate: largest gap {gap:.2e}")


def check_independent(make: Callable[..., Loss], n_classes: int) -> Check:
    """Each sample's loss depends on that sample only: half a batch gives the same losses."""
    logits, targets = _batch(n_classes)
    loss = make()
    if loss.region:
        return Check("independent", True, "does not apply: a region loss is computed over the "
                                          "whole batch by design")
    whole, half = _per_sample(loss, logits, targets), _per_sample(loss, logits[:N // 2], targets[:N // 2])
    if whole.shape != (N,) or half.shape != (N // 2,):
        return Check("independent", False, "cannot compare: the losses are not one per sample")
    gap, tol = _gap(whole[:N // 2], half)
    return Check("independent", gap <= tol, f"scoring half the batch changes its losses by {gap:.2e}"
                 + ("" if gap <= tol else ": the loss couples the samples of a batch"))


def check_learns(make: Callable[..., Loss], n_classes: int) -> Check:
    """A linear model on a separable toy batch: 30 Adam steps must lower the loss."""
    g = torch.Generator().manual_seed(1)
    centers = torch.randn(n_classes, 4, generator=g, dtype=torch.float64) * 4
    targets = torch.arange(60) % n_classes
    x = centers[targets] + 0.1 * torch.randn(60, 4, generator=g, dtype=torch.float64)
    model = torch.nn.Linear(4, n_classes, dtype=torch.float64)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    loss = make()
    opt = torch.optim.Adam([*model.parameters(), *loss.parameters()], lr=0.05)
    first = last = None
    for _ in range(30):
        opt.zero_grad()
        value = _per_sample(loss, model(x), targets).mean()
        value.backward()
        opt.step()
        first = float(value.detach()) if first is None else first
        last = float(value.detach())
    assert first is not None and last is not None
    return Check("learns", last < first, f"30 gradient steps on a separable batch: {first:.4g} → {last:.4g}")


CHECKS = (check_shape, check_finite, check_shift, check_deterministic, check_stacked,
          check_independent, check_learns)


def run_checks(spec: str, params: dict[str, Any], n_classes: int) -> list[Check]:
    """Every check on ``spec``; a check whose evaluation raises fails with the error."""
    counts = [100 * (n_classes - c) for c in range(n_classes)]

    def make(counts: list[int] = counts, n_models: int | None = None) -> Loss:
        return build(spec, params, counts, n_models)

    make()  # a bad spec or parameter is an input error (exit 2), not a failed check
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check(make, n_classes))
        except Exception as exc:
            results.append(Check(name, False, f"raised {raised(exc)}"))
    return results
