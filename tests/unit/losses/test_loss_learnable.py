"""dual_focal_learnable: gamma is trained, bounded, and one per stacked model (docs/losses.md)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from dflbench.errors import ConfigError
from dflbench.losses import get_loss


def _batch(k: int | None = None, n: int = 32, c: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    shape = (n, c) if k is None else (k, n, c)
    logits = 2.0 * torch.randn(*shape, generator=g, dtype=torch.float64)
    targets = torch.randint(0, c, shape[:-1], generator=g)
    return logits, targets


def test_gamma_is_a_trainable_parameter_initialised_at_one():
    loss = get_loss("dual_focal_learnable")
    params = dict(loss.named_parameters())
    assert list(params) == ["r"] and params["r"].requires_grad
    assert params["r"].shape == ()
    gamma = loss.learned()["gamma"]
    assert gamma.shape == () and gamma.item() == pytest.approx(1.0, abs=1e-6)


def test_gamma_gets_a_gradient():
    loss = get_loss("dual_focal_learnable")
    logits, targets = _batch()
    loss(logits, targets).backward()
    assert loss.r.grad is not None and torch.isfinite(loss.r.grad)
    assert loss.r.grad.item() != 0.0


def test_gamma_init_and_bounds_are_configurable():
    loss = get_loss("dual_focal_learnable", gamma_init=2.0, gamma_min=1.0, gamma_max=3.0)
    assert loss.learned()["gamma"].item() == pytest.approx(2.0, abs=1e-6)
    with torch.no_grad():
        loss.r.fill_(50.0)
    assert loss.learned()["gamma"].item() == pytest.approx(3.0)


@pytest.mark.parametrize("r", [-1e4, -30.0, 0.0, 30.0, 1e4])
def test_gamma_stays_within_bounds_for_any_r(r):
    loss = get_loss("dual_focal_learnable")
    with torch.no_grad():
        loss.r.fill_(r)
    gamma = loss.learned()["gamma"].item()
    assert 0.5 <= gamma <= 5.0
    logits, targets = _batch()
    value = loss(logits, targets)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(loss.r.grad)


def test_training_gamma_alone_pushes_it_up_and_keeps_it_bounded():
    # docs/losses.md's caution: for |t - p| < 1 the focal term shrinks as gamma grows.
    loss = get_loss("dual_focal_learnable")
    opt = torch.optim.SGD(loss.parameters(), lr=50.0)
    logits, targets = _batch()
    history = []
    for _ in range(30):
        opt.zero_grad()
        loss(logits, targets).backward()
        opt.step()
        history.append(loss.learned()["gamma"].item())
    assert history[-1] > 1.5
    assert all(b >= a for a, b in itertools.pairwise(history))
    assert all(0.5 <= g <= 5.0 for g in history)


def test_n_models_gives_one_independent_gamma_per_model():
    k = 4
    loss = get_loss("dual_focal_learnable", n_models=k)
    assert loss.r.shape == (k,)
    assert loss.learned()["gamma"].shape == (k,)
    logits, targets = _batch(k)
    values = loss(logits, targets)
    assert values.shape == (k,)
    values[2].backward()
    grad = loss.r.grad
    assert grad[2] != 0
    assert torch.all(grad[[0, 1, 3]] == 0)


def test_n_models_each_model_uses_its_own_gamma():
    k = 3
    loss = get_loss("dual_focal_learnable", n_models=k)
    with torch.no_grad():
        loss.r.copy_(torch.tensor([-2.0, 0.0, 3.0]))
    gammas = loss.learned()["gamma"]
    assert len(set(gammas.tolist())) == k
    logits, targets = _batch(k)
    batched = loss(logits, targets)
    for i in range(k):
        single = get_loss("dual_focal", gamma=gammas[i].item())(logits[i], targets[i])
        torch.testing.assert_close(batched[i], single, rtol=1e-6, atol=1e-6)


def test_learned_values_are_detached_snapshots():
    loss = get_loss("dual_focal_learnable", n_models=2)
    snapshot = loss.learned()["gamma"]
    assert not snapshot.requires_grad
    with torch.no_grad():
        loss.r.fill_(5.0)
    assert snapshot.tolist() == pytest.approx([1.0, 1.0], abs=1e-6)


@pytest.mark.parametrize("shape", [(5, 4), (3, 5, 4)])
def test_n_models_rejects_logits_without_the_model_axis(shape):
    loss = get_loss("dual_focal_learnable", n_models=4)
    logits = torch.zeros(shape)
    targets = torch.zeros(shape[:-1], dtype=torch.long)
    with pytest.raises(ValueError, match="n_models=4"):
        loss(logits, targets)


def test_works_in_float64():
    loss = get_loss("dual_focal_learnable", n_models=2).to(torch.float64)
    assert loss.r.dtype == torch.float64
    logits, targets = _batch(2)
    value = loss(logits, targets)
    assert value.dtype == torch.float64


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"gamma_min": 2.0, "gamma_max": 1.0}, "gamma_max"),
        ({"gamma_init": 5.0}, "gamma_init"),
        ({"gamma_init": 0.5}, "gamma_init"),
        ({"gamma_min": -1.0}, "gamma_min"),
        ({"n_models": 0}, "n_models"),
        ({"theta": 0.0}, "theta"),
    ],
)
def test_rejects_invalid_parameters(params, match):
    with pytest.raises(ConfigError, match=match):
        get_loss(
            "dual_focal_learnable",
            **{k: v for k, v in params.items() if k != "n_models"},
            n_models=params.get("n_models"),
        )


def test_r_initialisation_is_the_logit_of_the_init_fraction():
    loss = get_loss("dual_focal_learnable")
    assert loss.r.item() == pytest.approx(math.log(1 / 8), rel=1e-6)
