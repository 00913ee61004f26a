"""LDAM's deferred re-weighting (DRW) through the start_epoch hook (docs/losses.md)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dflbench.errors import ConfigError
from dflbench.losses import get_loss
from dflbench.losses._weights import class_weights

COUNTS = [1000, 100, 10]


def _reference(logits, targets, weight=None):
    delta = torch.tensor(COUNTS, dtype=torch.float64) ** -0.25
    delta = delta * 0.5 / delta.max()
    shifted = 30.0 * (logits - F.one_hot(targets, 3) * delta)
    return F.cross_entropy(shifted, targets, weight=weight)


def test_drw_switches_to_effective_weighted_mean_after_the_fraction(batch):
    logits, targets = batch
    loss = get_loss("ldam", class_counts=COUNTS, drw_start=0.8).to(torch.float64)
    w = torch.as_tensor(class_weights("effective", COUNTS, beta=0.9999))
    plain, weighted = _reference(logits, targets), _reference(logits, targets, w)
    assert not torch.isclose(plain, weighted)
    for epoch in range(10):
        loss.start_epoch(epoch, 10)
        expected = weighted if epoch >= 8 else plain
        torch.testing.assert_close(loss(logits, targets), expected)


def test_drw_boundary_matches_the_official_160_of_200():
    loss = get_loss("ldam", class_counts=COUNTS, drw_start=0.8)
    loss.start_epoch(159, 200)
    assert not loss.drw_active
    loss.start_epoch(160, 200)
    assert loss.drw_active


def test_without_drw_start_epoch_changes_nothing(batch):
    logits, targets = batch
    loss = get_loss("ldam", class_counts=COUNTS).to(torch.float64)
    loss.start_epoch(199, 200)
    torch.testing.assert_close(loss(logits, targets), _reference(logits, targets))


def test_drw_beta_is_configurable(batch):
    logits, targets = batch
    loss = get_loss("ldam", class_counts=COUNTS, drw_start=0.5, beta=0.99).to(torch.float64)
    loss.start_epoch(5, 10)
    w = torch.as_tensor(class_weights("effective", COUNTS, beta=0.99))
    torch.testing.assert_close(loss(logits, targets), _reference(logits, targets, w))


def test_drw_sum_and_none_are_weighted(batch):
    logits, targets = batch
    loss = get_loss("ldam", class_counts=COUNTS, drw_start=0.5, reduction="none")
    loss = loss.to(torch.float64)
    before = loss(logits, targets)
    loss.start_epoch(9, 10)
    w = torch.as_tensor(class_weights("effective", COUNTS))
    torch.testing.assert_close(loss(logits, targets), before * w[targets])


def test_ldam_declares_a_cosine_head():
    assert get_loss("ldam", class_counts=COUNTS).head == "cosine"


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.2])
def test_drw_start_must_be_a_fraction(value):
    with pytest.raises(ConfigError, match=r"drw_start.*\(0, 1\)"):
        get_loss("ldam", class_counts=COUNTS, drw_start=value)


@pytest.mark.parametrize(("param", "value"), [("s", 0), ("max_m", -0.5), ("beta", 1.0)])
def test_rejects_invalid_parameters(param, value):
    with pytest.raises(ConfigError, match=param):
        get_loss("ldam", class_counts=COUNTS, **{param: value})


def test_probabilities_go_through_the_scale_s():
    loss = get_loss("ldam", class_counts=COUNTS, s=30.0)
    cosine = torch.tensor([[0.9, 0.1, -0.5]])
    proba = loss.probabilities(cosine)
    torch.testing.assert_close(proba, torch.softmax(30.0 * cosine, dim=-1))
    assert proba.argmax(-1).item() == 0 and proba.max() > 0.99
