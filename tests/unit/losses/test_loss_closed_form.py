"""``Loss.loss_and_grad``: the closed-form gradients the batched engine trains with must equal
autograd's, for every loss in the registry, every reduction, single and stacked batches, the
clamped regimes of each formula and extreme logits."""

from __future__ import annotations

import pytest
import torch

from dflbench.losses import LOSSES, Loss, get_loss
from dflbench.losses._base import Softmax

COUNTS = [1000, 100, 10]
C = 3

#: Parameter sets that reach each formula's clamps and special cases.
VARIANTS: dict[str, list[dict]] = {
    "focal": [{"gamma": 0.0}, {"gamma": 0.5}, {"gamma": 2.0, "alpha": "effective"}],
    "dual_focal": [{"gamma": 0.5}, {"gamma": 0.0}, {"rho": 0.6, "theta": 0.2, "beta": 2.0},
                   {"alpha": 0.0, "gamma": 3.0}],
    "dual_focal_learnable": [{"gamma_init": 0.7}, {"rho": 0.6, "theta": 0.2}],
    "dual_ce": [{"alpha": 0.2, "beta": 3.0}],
    "poly1": [{"epsilon": -1.0}, {"epsilon": 4.0}],
    "weighted_ce": [{"weights": "effective"}, {"weights": [0.0, 1.0, 5.0]}],
    "logit_adjusted": [{"tau": 0.5}],
    "ldam": [{"s": 1.0}],
}
CASES = [(name, params) for name in LOSSES.names() for params in [{}, *VARIANTS.get(name, [])]]


def _pair(name: str, k: int | None, **params) -> tuple[Loss, Loss]:
    """Two identical losses (one for each gradient path), float64."""
    def build() -> Loss:
        return get_loss(name, class_counts=COUNTS, n_models=k, **params).double()
    return build(), build()


def _compare(a: Loss, b: Loss, logits: torch.Tensor, targets: torch.Tensor, tol: float) -> None:
    value, grad = a.loss_and_grad(logits, targets)
    z = logits.clone().requires_grad_()
    expected = b(z, targets)
    expected.sum().backward()
    torch.testing.assert_close(value, expected.detach(), rtol=tol, atol=tol)
    torch.testing.assert_close(grad, z.grad, rtol=tol, atol=tol)
    assert torch.isfinite(grad).all()
    for (pname, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert pa.grad is not None, f"{pname} got no gradient"
        torch.testing.assert_close(pa.grad, pb.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("k", [None, 4])
def test_loss_and_grad_equals_autograd(name, params, reduction, k):
    if reduction != "mean" and LOSSES.get(name).region:
        pytest.skip(f"'{name}' is a region loss: reduction 'mean' only")
    g = torch.Generator().manual_seed(0)
    shape = (k, 32) if k else (32,)
    logits = 4.0 * torch.randn(*shape, C, generator=g, dtype=torch.float64)
    targets = torch.randint(0, C, shape, generator=g)
    a, b = _pair(name, k, reduction=reduction, **params)
    _compare(a, b, logits, targets, 1e-10)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_loss_and_grad_on_extreme_and_saturated_logits(name, params):
    big = 1e4
    logits = torch.tensor([[big, -big, 0.0], [-big, big, -big], [0.0, 0.0, big], [-big, -big, -big],
                           [big, big, -big], [0.0, -big, 0.0], [30.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
                          dtype=torch.float64)
    targets = torch.tensor([0, 0, 2, 1, 1, 1, 0, 2])
    _compare(*_pair(name, None, **params), logits, targets, 1e-9)


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_and_grad_in_float32_on_a_transposed_view(name):
    """The engine hands the losses a class-major (K, C, N) buffer seen as (K, N, C)."""
    g = torch.Generator().manual_seed(1)
    logits = (3.0 * torch.randn(2, C, 16, generator=g)).transpose(1, 2)
    targets = torch.randint(0, C, (2, 16), generator=g)
    a, b = (get_loss(name, class_counts=COUNTS, n_models=2) for _ in range(2))
    value, grad = a.loss_and_grad(logits, targets)
    z = logits.contiguous().requires_grad_()
    b(z, targets).sum().backward()
    torch.testing.assert_close(grad, z.grad, rtol=1e-5, atol=1e-6)
    assert value.shape == (2,)


def test_the_losses_of_the_dfl_paper_have_a_closed_form(golden):
    """The default suites' losses skip autograd in the engine; a loss losing its closed form would
    still be correct, only slower, so this guards the speed (benchmarks/bench_engine.py)."""
    logits, targets = golden
    softmax = Softmax.of(logits, targets)
    for name in ("ce", "weighted_ce", "dual_ce", "focal", "dual_focal", "dual_focal_learnable"):
        loss = get_loss(name, class_counts=COUNTS)
        assert loss.per_sample_grad(logits, targets, softmax) is not None, name


def test_loss_and_grad_accumulates_into_existing_parameter_gradients():
    logits = torch.randn(2, 8, C, dtype=torch.float64)
    targets = torch.randint(0, C, (2, 8))
    loss = get_loss("dual_focal_learnable", n_models=2).double()
    loss.loss_and_grad(logits, targets)
    once = loss.r.grad.clone()
    loss.loss_and_grad(logits, targets)
    torch.testing.assert_close(loss.r.grad, 2 * once)
    assert (once != 0).all()
