"""Golden values of docs/losses.md: every row of the table, float64 to 1e-6, float32 to 1e-5."""

from __future__ import annotations

import pytest
import torch

from dflbench.losses import get_loss
from dflbench.losses._weights import class_weights
from dflbench.losses.dual_focal_calibration import next_below_target
from dflbench.losses.ldam import ldam_margins

COUNTS = [1000, 100, 10]

GOLDEN = [
    ("ce", {}, 0.436379),
    ("weighted_ce", {"weights": "inverse"}, 0.910761),
    ("weighted_ce", {"weights": "effective", "beta": 0.9999}, 0.910115),
    ("focal", {"gamma": 2}, 0.137539),
    ("focal", {"gamma": 1}, 0.230001),
    ("focal", {"gamma": 2, "alpha": "effective", "beta": 0.9999}, 0.361312),
    ("dual_focal", {}, 1.396712),
    ("dual_focal_learnable", {}, 1.396712),
    ("dual_ce", {"alpha": 1, "beta": 1}, 0.707088),
    ("balanced_softmax", {}, 1.571958),
    ("logit_adjusted", {"tau": 0.5}, 0.877617),
    ("ldam", {"max_m": 0.5, "s": 30}, 4.016198),
    ("ldam", {"max_m": 0.5, "s": 1}, 0.569888),
    ("poly1", {"epsilon": 1}, 0.740045),
    ("dual_focal_calibration", {"gamma": 5}, 0.280294),
    ("soft_dice", {}, 0.210104),
    ("soft_dice", {"smooth": 1e-5}, 0.327114),
    ("tversky", {}, 0.156145),
    ("tversky", {"alpha": 1, "beta": 1}, 0.267313),
    ("focal_tversky", {}, 0.243854),
    ("dice_ce", {}, 0.646483),
    ("dice_ce", {"ce_weight": 0.5, "dice_weight": 2}, 0.638397),
]
IDS = [
    f"{name}-{'-'.join(f'{k}={v}' for k, v in params.items()) or 'defaults'}"
    for name, params, _ in GOLDEN
]


@pytest.mark.parametrize(("name", "params", "expected"), GOLDEN, ids=IDS)
def test_golden_float64(name, params, expected, golden):
    logits, targets = golden
    loss = get_loss(name, class_counts=COUNTS, **params).to(torch.float64)
    value = loss(logits, targets)
    assert value.dtype == torch.float64
    assert value.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("name", "params", "expected"), GOLDEN, ids=IDS)
def test_golden_float64_logits_with_default_module(name, params, expected, golden):
    # The trainer may feed float64 logits to a module whose buffers stay float32.
    logits, targets = golden
    value = get_loss(name, class_counts=COUNTS, **params)(logits, targets)
    assert value.dtype == torch.float64
    assert value.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("name", "params", "expected"), GOLDEN, ids=IDS)
def test_golden_float32(name, params, expected, golden):
    logits, targets = golden
    value = get_loss(name, class_counts=COUNTS, **params)(logits.float(), targets)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(expected, abs=1e-5)


def test_golden_effective_weights():
    w = class_weights("effective", COUNTS, beta=0.9999)
    assert w.tolist() == pytest.approx([0.028362, 0.271255, 2.700382], abs=1e-6)


def test_golden_ldam_margins():
    assert ldam_margins(COUNTS, 0.5) == pytest.approx([0.158114, 0.281171, 0.5], abs=1e-6)


def test_golden_calibration_p_j(golden):
    logits, targets = golden
    p_j = next_below_target(torch.softmax(logits, dim=-1), targets)
    assert p_j.tolist() == pytest.approx([0.17529, 0.332225, 0.046613], abs=1e-6)


def test_p_j_is_zero_when_target_is_least_likely_and_ties_are_excluded():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]], dtype=torch.float64)
    p_j = next_below_target(probs, torch.tensor([2, 0]))
    # Row 0: nothing below 0.1. Row 1: the tie at 0.4 is not strictly below p_t.
    assert p_j.tolist() == [0.0, 0.2]
