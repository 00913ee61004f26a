"""The region losses (soft_dice, tversky, focal_tversky, dice_ce; docs/losses.md, "Region losses"):
golden values recomputed here by plain loops over the golden batch, and their invariants."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dflbench.losses import LOSSES, get_loss
from tests.unit.losses import test_loss_golden

REGION = ["soft_dice", "tversky", "focal_tversky", "dice_ce"]
#: The region losses' golden values of docs/losses.md, recomputed here by plain loops.
GOLDEN = [case for case in test_loss_golden.GOLDEN if case[0] in REGION]


def _plain(name: str, params: dict, logits: list[list[float]], targets: list[int]) -> float:
    """The loss by the formulas of docs/losses.md, in plain Python floats."""
    probs = []
    for z in logits:
        e = [math.exp(v) for v in z]
        probs.append([v / sum(e) for v in e])
    n, c = len(targets), len(logits[0])
    t = [[1.0 if targets[i] == k else 0.0 for k in range(c)] for i in range(n)]
    smooth = params.get("smooth", 1.0)
    if name in ("soft_dice", "dice_ce"):
        dice = [(2 * sum(probs[i][k] * t[i][k] for i in range(n)) + smooth)
                / (sum(probs[i][k] for i in range(n)) + sum(t[i][k] for i in range(n)) + smooth)
                for k in range(c)]
        soft_dice = 1 - sum(dice) / c
        if name == "soft_dice":
            return soft_dice
        ce = -sum(math.log(probs[i][targets[i]]) for i in range(n)) / n
        return params.get("ce_weight", 1.0) * ce + params.get("dice_weight", 1.0) * soft_dice
    alpha, beta = params.get("alpha", 0.3), params.get("beta", 0.7)
    gamma = params.get("gamma", 4 / 3) if name == "focal_tversky" else 1.0
    total = 0.0
    for k in range(c):
        tp = sum(probs[i][k] * t[i][k] for i in range(n))
        fp = sum(probs[i][k] * (1 - t[i][k]) for i in range(n))
        fn = sum((1 - probs[i][k]) * t[i][k] for i in range(n))
        total += (1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)) ** (1 / gamma)
    return total / c


@pytest.mark.parametrize(("name", "params", "expected"), GOLDEN)
def test_golden_values_follow_from_the_formulas(name, params, expected, golden):
    logits, targets = golden
    assert _plain(name, params, logits.tolist(), targets.tolist()) == pytest.approx(expected, abs=1e-6)
    assert get_loss(name, **params)(logits, targets).item() == pytest.approx(expected, abs=1e-6)


def test_the_region_losses_are_marked_as_such():
    assert {n for n in LOSSES.names() if LOSSES.get(n).region} == set(REGION)


def _batch(n=64, c=4, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, c, generator=g, dtype=torch.float64)
    targets = torch.randint(0, c, (n,), generator=g)
    return logits, targets


def _value_and_grad(loss, logits, targets):
    z = logits.clone().requires_grad_(True)
    value = loss(z, targets)
    value.sum().backward()
    return value.detach(), z.grad


@pytest.mark.parametrize("name", REGION)
def test_a_perfect_prediction_scores_about_zero(name):
    targets = torch.arange(40) % 4
    logits = 60.0 * F.one_hot(targets, 4).to(torch.float64)
    assert 0 <= get_loss(name)(logits, targets).item() < 1e-12
    # ...and a confidently wrong one scores high.
    assert get_loss(name)(logits, (targets + 1) % 4).item() > 0.9


@pytest.mark.parametrize("smooth", [1.0, 1e-3])
def test_tversky_with_equal_halves_is_soft_dice_with_twice_the_smoothing(smooth):
    # (TP + ε) / (TP + (FP + FN) / 2 + ε) = (2 TP + 2ε) / (Σp + Σt + 2ε).
    logits, targets = _batch()
    tversky = get_loss("tversky", alpha=0.5, beta=0.5, smooth=smooth)
    dice = get_loss("soft_dice", smooth=2 * smooth)
    value, grad = _value_and_grad(tversky, logits, targets)
    ref, ref_grad = _value_and_grad(dice, logits, targets)
    torch.testing.assert_close(value, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_tversky_with_alpha_beta_one_is_the_soft_jaccard_loss():
    logits, targets = _batch()
    p = torch.softmax(logits, -1)
    t = F.one_hot(targets, 4).to(p.dtype)
    inter = (p * t).sum(0)
    union = p.sum(0) + t.sum(0) - inter
    jaccard = 1 - ((inter + 1.0) / (union + 1.0)).mean()
    torch.testing.assert_close(get_loss("tversky", alpha=1, beta=1)(logits, targets), jaccard)


def test_focal_tversky_with_gamma_one_is_tversky():
    logits, targets = _batch()
    params = {"alpha": 0.4, "beta": 0.9, "smooth": 0.5}
    value, grad = _value_and_grad(get_loss("focal_tversky", gamma=1, **params), logits, targets)
    ref, ref_grad = _value_and_grad(get_loss("tversky", **params), logits, targets)
    torch.testing.assert_close(value, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_focal_tversky_raises_each_class_term_to_one_over_gamma():
    logits, targets = _batch()
    p = torch.softmax(logits, -1)
    t = F.one_hot(targets, 4).to(p.dtype)
    tp, fp, fn = (p * t).sum(0), (p * (1 - t)).sum(0), ((1 - p) * t).sum(0)
    ti = (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1)
    expected = ((1 - ti) ** 0.75).mean()
    torch.testing.assert_close(get_loss("focal_tversky")(logits, targets), expected)


@pytest.mark.parametrize(("ce_weight", "dice_weight"), [(1, 1), (0.25, 3), (0, 1), (1, 0)])
def test_dice_ce_is_the_weighted_sum_of_ce_and_soft_dice(ce_weight, dice_weight):
    logits, targets = _batch()
    value, grad = _value_and_grad(
        get_loss("dice_ce", ce_weight=ce_weight, dice_weight=dice_weight, smooth=0.5),
        logits, targets)
    ce, ce_grad = _value_and_grad(get_loss("ce"), logits, targets)
    dice, dice_grad = _value_and_grad(get_loss("soft_dice", smooth=0.5), logits, targets)
    torch.testing.assert_close(value, ce_weight * ce + dice_weight * dice)
    torch.testing.assert_close(grad, ce_weight * ce_grad + dice_weight * dice_grad)


@pytest.mark.parametrize("name", ["soft_dice", "tversky", "focal_tversky"])
@pytest.mark.parametrize("scale", [0.1, 3.0, 1e4])
def test_dice_and_tversky_values_lie_in_zero_one(name, scale):
    for seed in range(5):
        logits, targets = _batch(n=32, seed=seed, scale=scale)
        for params in ({}, {"smooth": 1e-6}, {"alpha": 2.0, "beta": 0.0}):
            if name == "soft_dice" and "alpha" in params:
                continue
            value = get_loss(name, **params)(logits, targets).item()
            assert 0.0 <= value <= 1.0


@pytest.mark.parametrize("name", REGION)
def test_the_order_of_the_samples_does_not_matter(name):
    logits, targets = _batch(n=200)
    perm = torch.randperm(200, generator=torch.Generator().manual_seed(1))
    loss = get_loss(name)
    torch.testing.assert_close(loss(logits[perm], targets[perm]), loss(logits, targets),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", REGION)
def test_the_samples_are_coupled_unlike_a_per_sample_loss(name):
    """A region loss of a batch is not the mean of the losses of its halves."""
    logits, targets = _batch()
    loss = get_loss(name)
    halves = (loss(logits[:32], targets[:32]) + loss(logits[32:], targets[32:])) / 2
    assert not torch.isclose(loss(logits, targets), halves)


def test_an_absent_class_without_predicted_mass_counts_as_perfect():
    # Class 3 is in no target and gets (to working precision) no probability: D_3 = ε / ε = 1.
    logits, targets = _batch(n=30, c=3)
    wide = torch.cat([logits, torch.full((30, 1), -1e4, dtype=logits.dtype)], dim=-1)
    three = get_loss("soft_dice")(logits, targets)
    four = get_loss("soft_dice")(wide, targets)
    torch.testing.assert_close(1 - four, (3 * (1 - three) + 1) / 4)


@pytest.mark.parametrize("name", REGION)
def test_segmentation_batches_are_flattened_pixels(name):
    """(K, B·H·W, C) rows give one value per model, each its own images' pixels."""
    g = torch.Generator().manual_seed(4)
    k, b, h, w, c = 2, 3, 5, 4, 3
    logits = torch.randn(k, b, h, w, c, generator=g, dtype=torch.float64)
    targets = torch.randint(0, c, (k, b, h, w), generator=g)
    loss = get_loss(name)
    flat = loss(logits.reshape(k, -1, c), targets.reshape(k, -1))
    assert flat.shape == (k,)
    for i in range(k):
        torch.testing.assert_close(flat[i], loss(logits[i].reshape(-1, c), targets[i].reshape(-1)))


@pytest.mark.parametrize("name", REGION)
def test_float32_agrees_with_float64(name):
    logits, targets = _batch()
    torch.testing.assert_close(get_loss(name)(logits.float(), targets),
                               get_loss(name)(logits, targets).float(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "param", "value", "rule"), [
    ("soft_dice", "smooth", 0.0, r"> 0"),
    ("tversky", "alpha", -0.1, r">= 0"),
    ("tversky", "beta", -0.1, r">= 0"),
    ("focal_tversky", "gamma", 0.0, r"> 0"),
    ("dice_ce", "ce_weight", -1.0, r">= 0"),
    ("dice_ce", "dice_weight", -1.0, r">= 0"),
])
def test_invalid_parameters_are_refused(name, param, value, rule):
    with pytest.raises(ValueError, match=rf"loss '{name}': parameter '{param}': .*expected .*{rule}"):
        get_loss(name, **{param: value})
