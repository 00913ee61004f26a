"""The ignore mask of the loss contract (docs/losses.md, "Ignored samples"): for every loss in the
registry (and a plugin loss), ``loss(z, y, mask=m)`` and ``loss.loss_and_grad(..., mask=m)`` equal
the same loss on the kept rows alone, per model; the logits' gradient is exactly 0 at ignored rows;
``mask=None`` and an all-True mask change no number."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dflbench.losses import LOSSES, Loss, get_loss
from dflbench.losses._plugin import register

COUNTS = [1000, 100, 10]
C = 3
NAMES = LOSSES.names()
PLUGINS = Path(__file__).resolve().parents[2] / "fixtures" / "plugins"


def reductions(name: str) -> list[str]:
    return ["mean"] if LOSSES.get(name).region else ["mean", "sum", "none"]


CASES = [(name, red) for name in NAMES for red in reductions(name)]
IDS = [f"{n}-{r}" for n, r in CASES]


def build(name: str, k: int | None = None, **params) -> Loss:
    return get_loss(name, class_counts=COUNTS, n_models=k, **params).double()


def _batch(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = 3.0 * torch.randn(*shape, C, generator=g, dtype=torch.float64)
    targets = torch.randint(0, C, shape, generator=g)
    mask = torch.rand(shape, generator=g) < 0.6
    # Ignored rows carry the placeholder class 0, as the engine gives them.
    return logits, torch.where(mask, targets, 0), mask


def _grads(loss: Loss) -> list[torch.Tensor]:
    return [p.grad.clone() for p in loss.parameters()]


@pytest.mark.parametrize(("name", "reduction"), CASES, ids=IDS)
def test_one_model_masked_equals_the_kept_rows_alone(name, reduction):
    logits, targets, mask = _batch((40,))
    masked = build(name, reduction=reduction)(logits, targets, mask=mask)
    kept = build(name, reduction=reduction)(logits[mask], targets[mask])
    if reduction == "none":
        torch.testing.assert_close(masked[mask], kept, rtol=1e-12, atol=1e-12)
        assert torch.all(masked[~mask] == 0)
    else:
        torch.testing.assert_close(masked, kept, rtol=1e-12, atol=1e-12)

    a, b = build(name, reduction=reduction), build(name, reduction=reduction)
    value, grad = a.loss_and_grad(logits, targets, mask=mask)
    ref_value, ref_grad = b.loss_and_grad(logits[mask], targets[mask])
    if reduction == "none":
        value = value[mask]
    torch.testing.assert_close(value, ref_value, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad[mask], ref_grad, rtol=1e-12, atol=1e-12)
    assert torch.all(grad[~mask] == 0)
    for pa, pb in zip(_grads(a), _grads(b)):
        torch.testing.assert_close(pa, pb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "reduction"), CASES, ids=IDS)
def test_stacked_models_with_their_own_masks(name, reduction):
    """Each model sees its own images, so its own mask and its own count of kept rows."""
    k = 3
    logits, targets, mask = _batch((k, 30), seed=1)
    mask[2, :25] = False  # a model that keeps far fewer rows than the others
    stacked = build(name, k, reduction=reduction)
    value, grad = stacked.loss_and_grad(logits, targets, mask=mask)
    forward = build(name, k, reduction=reduction)(logits, targets, mask=mask)
    torch.testing.assert_close(value, forward, rtol=1e-12, atol=1e-12)
    grads = _grads(stacked)
    for i in range(k):
        m = mask[i]
        single = build(name, reduction=reduction)
        ref_value, ref_grad = single.loss_and_grad(logits[i][m], targets[i][m])
        torch.testing.assert_close(value[i][m] if reduction == "none" else value[i], ref_value,
                                   rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad[i][m], ref_grad, rtol=1e-12, atol=1e-12)
        assert torch.all(grad[i][~m] == 0)
        # A per-model parameter's gradient comes from that model's kept rows only.
        for pk, p1 in zip(grads, _grads(single)):
            torch.testing.assert_close(pk[i], p1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "reduction"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_mask_and_an_all_true_mask_change_no_number(name, reduction, dtype):
    k = 2
    g = torch.Generator().manual_seed(2)
    logits = (3.0 * torch.randn(k, 50, C, generator=g)).to(dtype)
    targets = torch.randint(0, C, (k, 50), generator=g)
    everything = torch.ones(k, 50, dtype=torch.bool)
    plain, kept = (get_loss(name, class_counts=COUNTS, n_models=k, reduction=reduction)
                   for _ in range(2))
    assert torch.equal(plain(logits, targets), kept(logits, targets, mask=everything))
    assert torch.equal(plain(logits, targets, mask=None), plain(logits, targets))
    v1, g1 = plain.loss_and_grad(logits, targets)
    v2, g2 = kept.loss_and_grad(logits, targets, mask=everything)
    assert torch.equal(v1, v2) and torch.equal(g1, g2)
    for p1, p2 in zip(plain.parameters(), kept.parameters()):
        assert torch.equal(p1.grad, p2.grad)


@pytest.mark.parametrize("name", NAMES)
def test_a_model_with_no_kept_row_gets_zero_not_nan(name):
    logits, targets, mask = _batch((2, 20), seed=3)
    mask[1] = False
    loss = build(name, 2)
    value, grad = loss.loss_and_grad(logits, targets, mask=mask)
    assert value[1] == 0 and torch.all(grad[1] == 0)
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()
    assert loss(logits, targets, mask=mask)[1] == 0


@pytest.mark.parametrize("name", NAMES)
def test_loss_and_grad_writes_the_masked_gradient_into_out(name):
    logits, targets, mask = _batch((2, 20), seed=4)
    out = torch.full_like(logits, float("nan"))
    _, grad = build(name, 2).loss_and_grad(logits, targets, out=out, mask=mask)
    assert grad.data_ptr() == out.data_ptr()
    torch.testing.assert_close(out, build(name, 2).loss_and_grad(logits, targets, mask=mask)[1])


def test_a_mask_of_the_wrong_shape_or_dtype_is_refused():
    logits, targets, mask = _batch((10,))
    loss = build("ce")
    with pytest.raises(ValueError, match="bool tensor of the targets' shape"):
        loss(logits, targets, mask=mask.long())
    with pytest.raises(ValueError, match="bool tensor of the targets' shape"):
        loss.loss_and_grad(logits, targets, mask=mask[:5])


def test_a_plugin_loss_honours_the_mask(monkeypatch):
    monkeypatch.setattr(LOSSES, "_items", dict(LOSSES._items))
    monkeypatch.setattr(LOSSES, "_rules", dict(LOSSES._rules))
    spec = register("losses_for_checks.py:AsymmetricLoss", PLUGINS)
    logits, targets, mask = _batch((2, 24), seed=5)
    a, b = build(spec, 2), build(spec, 2)
    value, grad = a.loss_and_grad(logits, targets, mask=mask)
    for i in range(2):
        m = mask[i]
        single = build(spec)
        ref_value, ref_grad = single.loss_and_grad(logits[i][m], targets[i][m])
        torch.testing.assert_close(value[i], ref_value, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad[i][m], ref_grad, rtol=1e-12, atol=1e-12)
        assert torch.all(grad[i][~m] == 0)
        torch.testing.assert_close(a.stack.weights[0].grad[i], single.stack.weights[0].grad[0],
                                   rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b(logits, targets, mask=mask), value, rtol=1e-12, atol=1e-12)
