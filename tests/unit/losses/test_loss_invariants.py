"""Invariants of docs/losses.md: reductions to CE, bounds, equalities with torch, DFL's sign."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dflbench.losses import LOSSES, get_loss
from dflbench.losses._weights import class_weights

REDUCTIONS = ["mean", "sum", "none"]
COUNTS = [1000, 100, 10]
#: What a published third-party port of DFL (sign of the alpha term flipped) gives on the golden
#: batch; docs/losses.md says a test must reject it.
FLIPPED_SIGN_PORT = 0.182048


def _value_and_grad(loss, logits, targets):
    z = logits.clone().requires_grad_(True)
    value = loss(z, targets)
    value.sum().backward()
    return value.detach(), z.grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_matches_torch_cross_entropy(batch, reduction):
    logits, targets = batch
    ours, grad = _value_and_grad(get_loss("ce", reduction=reduction), logits, targets)
    ref, ref_grad = _value_and_grad(
        lambda z, y: F.cross_entropy(z, y, reduction=reduction), logits, targets
    )
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(grad, ref_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["inverse", "effective", "balanced", [0.5, 2.0, 7.0]])
def test_weighted_ce_matches_torch_weighted_cross_entropy(batch, reduction, weights):
    logits, targets = batch
    w = torch.as_tensor(class_weights(weights, COUNTS), dtype=torch.float64)
    loss = get_loss("weighted_ce", class_counts=COUNTS, weights=weights, reduction=reduction)
    ours, grad = _value_and_grad(loss.to(torch.float64), logits, targets)
    ref, ref_grad = _value_and_grad(
        lambda z, y: F.cross_entropy(z, y, weight=w, reduction=reduction), logits, targets
    )
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_weighted_ce_mean_is_a_weighted_mean_not_a_plain_mean(batch):
    logits, targets = batch
    loss = get_loss("weighted_ce", class_counts=COUNTS)
    per_sample = get_loss("weighted_ce", class_counts=COUNTS, reduction="none")(logits, targets)
    assert not torch.isclose(loss(logits, targets), per_sample.mean())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_ce_with_equal_weights_equals_ce(batch, reduction):
    logits, targets = batch
    ce = get_loss("ce", reduction=reduction)(logits, targets)
    ours = get_loss("weighted_ce", class_counts=COUNTS, weights=[1, 1, 1], reduction=reduction)(
        logits, targets
    )
    torch.testing.assert_close(ours, ce)


def test_weighted_ce_explicit_weights_need_no_counts_and_mean_ignores_their_scale(batch):
    logits, targets = batch
    ours = LOSSES.get("weighted_ce")(weights=[3.0, 3.0, 3.0])(logits, targets)
    torch.testing.assert_close(ours, get_loss("ce")(logits, targets))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_gamma_zero_equals_ce_values_and_gradients(batch, reduction):
    logits, targets = batch
    ours, grad = _value_and_grad(get_loss("focal", gamma=0, reduction=reduction), logits, targets)
    ref, ref_grad = _value_and_grad(get_loss("ce", reduction=reduction), logits, targets)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(grad, ref_grad)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_focal_never_exceeds_ce_per_sample(gamma):
    g = torch.Generator().manual_seed(1)
    logits = torch.cat(
        [
            10.0 * torch.randn(500, 5, generator=g, dtype=torch.float64),
            torch.randn(500, 5, generator=g, dtype=torch.float64),
        ]
    )
    targets = torch.randint(0, 5, (1000,), generator=g)
    focal = get_loss("focal", gamma=gamma, reduction="none")(logits, targets)
    ce = get_loss("ce", reduction="none")(logits, targets)
    assert torch.all(focal <= ce)
    assert torch.all(focal >= 0)
    # Strictly below wherever p_t is neither ~1 nor ~0: the bound is not trivially an equality.
    mid = (ce > 1e-3) & (ce < 5.0)
    assert mid.sum() > 100
    assert torch.all(focal[mid] < ce[mid])


def test_focal_alpha_list_scales_per_class_and_keeps_a_plain_mean(batch):
    logits, targets = batch
    alpha = [0.25, 1.0, 4.0]
    plain = get_loss("focal", reduction="none")(logits, targets)
    weighted = get_loss("focal", alpha=alpha, reduction="none")(logits, targets)
    torch.testing.assert_close(weighted, plain * torch.tensor(alpha, dtype=plain.dtype)[targets])
    mean = get_loss("focal", alpha=alpha)(logits, targets)
    torch.testing.assert_close(mean, weighted.mean())


def test_focal_alpha_scheme_uses_the_shared_weights(batch):
    logits, targets = batch
    w = class_weights("effective", COUNTS, beta=0.9999).tolist()
    by_name = get_loss("focal", alpha="effective", class_counts=COUNTS)(logits, targets)
    by_list = get_loss("focal", alpha=w)(logits, targets)
    torch.testing.assert_close(by_name, by_list)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logit_adjusted_tau_one_equals_balanced_softmax(batch, reduction):
    logits, targets = batch
    la = get_loss("logit_adjusted", class_counts=COUNTS, tau=1.0, reduction=reduction)
    bs = get_loss("balanced_softmax", class_counts=COUNTS, reduction=reduction)
    torch.testing.assert_close(la(logits, targets), bs(logits, targets))


def test_logit_adjusted_tau_changes_the_value(batch):
    logits, targets = batch
    a = get_loss("logit_adjusted", class_counts=COUNTS, tau=1.0)(logits, targets)
    b = get_loss("logit_adjusted", class_counts=COUNTS, tau=0.5)(logits, targets)
    assert not torch.isclose(a, b)


def test_balanced_softmax_is_ce_on_shifted_logits(batch):
    logits, targets = batch
    shifted = logits + torch.log(torch.tensor(COUNTS, dtype=torch.float64))
    ours = get_loss("balanced_softmax", class_counts=COUNTS).to(torch.float64)(logits, targets)
    torch.testing.assert_close(ours, F.cross_entropy(shifted, targets))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_dual_focal_learnable_at_init_equals_dual_focal(batch, reduction):
    logits, targets = batch
    fixed, fixed_grad = _value_and_grad(
        get_loss("dual_focal", reduction=reduction), logits, targets
    )
    learn, learn_grad = _value_and_grad(
        get_loss("dual_focal_learnable", reduction=reduction), logits, targets
    )
    torch.testing.assert_close(learn, fixed, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(learn_grad, fixed_grad, rtol=1e-6, atol=1e-6)


def _bce_plus_abs(logits, targets):
    p = torch.softmax(logits, dim=-1)
    t = F.one_hot(targets, logits.shape[-1]).to(p.dtype)
    bce = F.binary_cross_entropy(p, t, reduction="none").sum(-1)
    return bce, (t - p).abs().sum(-1)


def test_dual_focal_defaults_equal_bce_plus_absolute_error():
    g = torch.Generator().manual_seed(2)
    # Moderate logits keep every p in [1e-3, 1 - 1e-3], where the theta clamp is inactive.
    logits = torch.empty(200, 4, dtype=torch.float64).uniform_(-1, 1, generator=g)
    targets = torch.randint(0, 4, (200,), generator=g)
    bce, abs_err = _bce_plus_abs(logits, targets)
    ours = get_loss("dual_focal", reduction="none")(logits, targets)
    torch.testing.assert_close(ours, bce + abs_err)


def test_dual_focal_rejects_the_flipped_sign_port_value(golden):
    logits, targets = golden
    # The port subtracts the focal term; check we reproduce its number that way...
    bce, abs_err = _bce_plus_abs(logits, targets)
    assert (bce - abs_err).mean().item() == pytest.approx(FLIPPED_SIGN_PORT, abs=1e-6)
    # ...and that dual_focal is not that loss.
    for name in ("dual_focal", "dual_focal_learnable"):
        ours = get_loss(name)(logits, targets).item()
        assert abs(ours - FLIPPED_SIGN_PORT) > 0.1, name
        assert ours == pytest.approx((bce + abs_err).mean().item(), abs=1e-6)


def test_dual_focal_gradient_does_not_vanish_on_easy_examples():
    # The added |t - p|^gamma term keeps pushing a confident correct prediction (unlike focal).
    logits = torch.tensor([[6.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([0])
    get_loss("dual_focal")(logits, targets).backward()
    dfl_push = -logits.grad[0, 0].item()
    logits.grad = None
    get_loss("focal", gamma=2)(logits, targets).backward()
    focal_push = -logits.grad[0, 0].item()
    assert dfl_push > 10 * focal_push > 0


def test_dual_focal_theta_clamps_the_log_of_tiny_probabilities():
    logits = torch.tensor([[-30.0, 0.0, 0.0]], dtype=torch.float64)
    value = get_loss("dual_focal", reduction="none")(logits, torch.tensor([0]))
    p = torch.softmax(logits, -1)[0]
    # -log max(p_t, 1e-3) = -log 1e-3 (not ~30.7): the hard clamp of the official code.
    expected = -math.log(1e-3) - 2 * torch.log(1 - p[1]) + (1 - p[0]) + p[1] + p[2]
    assert value.item() == pytest.approx(expected.item(), abs=1e-9)


def test_dual_ce_matches_its_formula(batch):
    logits, targets = batch
    p = torch.softmax(logits, -1)
    t = F.one_hot(targets, 3).to(p.dtype)
    expected = F.cross_entropy(logits, targets, reduction="none") + 0.5 * (
        (1 - t) * torch.log(2.0 + p)
    ).sum(-1)
    ours = get_loss("dual_ce", alpha=2.0, beta=0.5, reduction="none")(logits, targets)
    torch.testing.assert_close(ours, expected)


def test_poly1_epsilon_zero_equals_ce(batch):
    logits, targets = batch
    torch.testing.assert_close(
        get_loss("poly1", epsilon=0)(logits, targets), get_loss("ce")(logits, targets)
    )


def test_calibration_dfl_gamma_zero_equals_ce(batch):
    logits, targets = batch
    torch.testing.assert_close(
        get_loss("dual_focal_calibration", gamma=0)(logits, targets),
        get_loss("ce")(logits, targets),
    )


def test_ldam_is_ce_on_scaled_margin_logits(batch):
    logits, targets = batch
    delta = torch.tensor(COUNTS, dtype=torch.float64) ** -0.25
    delta = delta * 0.5 / delta.max()
    shifted = 30.0 * (logits - F.one_hot(targets, 3) * delta)
    ours = get_loss("ldam", class_counts=COUNTS).to(torch.float64)(logits, targets)
    torch.testing.assert_close(ours, F.cross_entropy(shifted, targets))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("focal", {"gamma": 0.5}),
        ("dual_focal", {"gamma": 0.5}),
        ("dual_focal_calibration", {"gamma": 0.5}),
        ("dual_focal_learnable", {"gamma_init": 0.7}),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fractional_gamma_keeps_gradients_finite_on_saturated_logits(name, params, dtype):
    # x^gamma with gamma < 1 has an infinite slope at x = 0, which saturated logits reach exactly.
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]], dtype=dtype, requires_grad=True)
    loss = get_loss(name, **params).to(dtype)
    value = loss(logits, torch.tensor([0, 1]))
    value.backward()
    assert torch.isfinite(value)
    assert torch.all(torch.isfinite(logits.grad))
    for param in loss.parameters():
        assert torch.all(torch.isfinite(param.grad))
