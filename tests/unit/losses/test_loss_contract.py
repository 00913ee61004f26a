"""Contract tests generated from the registry: every loss, present and future, is checked here
before anyone writes a test for it (docs/design.md)."""

from __future__ import annotations

import pytest
import torch

from dflbench.errors import ConfigError
from dflbench.losses import LOSSES, Loss, get_loss

COUNTS = [1000, 100, 10]
NAMES = LOSSES.names()
K, N, C = 4, 16, 3


def build(name: str, **params) -> Loss:
    return get_loss(name, class_counts=COUNTS, **params)


def per_sample_only(name: str, what: str) -> None:
    """Skip a per-sample-only check for a region loss (one value per model, ``mean`` only)."""
    if LOSSES.get(name).region:
        pytest.skip(f"'{name}' is a region loss: {what}")


def _batch(shape, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(*shape, C, generator=g, dtype=torch.float64)
    targets = torch.randint(0, C, shape, generator=g)
    return logits, targets


def test_the_registry_holds_every_documented_loss():
    documented = {
        "ce",
        "weighted_ce",
        "dual_ce",
        "focal",
        "dual_focal",
        "dual_focal_learnable",
        "balanced_softmax",
        "logit_adjusted",
        "ldam",
        "poly1",
        "dual_focal_calibration",
        "soft_dice",
        "tversky",
        "focal_tversky",
        "dice_ce",
    }
    assert documented <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_describes_itself(name):
    cls = LOSSES.get(name)
    assert issubclass(cls, Loss)
    assert cls.name == name
    assert isinstance(cls.title, str) and cls.title.strip()
    assert isinstance(cls.source, str) and cls.source.strip()
    assert cls.head in ("linear", "cosine")
    assert isinstance(cls.region, bool)
    assert cls.__doc__ and cls.__doc__.strip()


def test_the_two_dual_focal_losses_are_told_apart():
    hossain, tao = LOSSES.get("dual_focal"), LOSSES.get("dual_focal_calibration")
    assert "Hossain" in hossain.source and "Tao" not in hossain.source
    assert "Tao" in tao.source and "different" in tao.source
    assert "Hossain" in tao.title or "not" in tao.title
    assert hossain.title != tao.title


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_value_and_gradients_for_extreme_logits(name, dtype):
    big = 1e4
    logits = torch.tensor(
        [
            [big, -big, 0.0],
            [-big, big, -big],
            [0.0, 0.0, big],
            [-big, -big, -big],
            [big, big, -big],
            [0.0, -big, 0.0],
        ],
        dtype=dtype,
        requires_grad=True,
    )
    # Targets on the largest, the smallest and tied logits.
    targets = torch.tensor([0, 0, 2, 1, 1, 1])
    loss = build(name).to(dtype)
    value = loss(logits, targets)
    value.backward()
    assert torch.isfinite(value)
    assert torch.all(torch.isfinite(logits.grad))
    for param in loss.parameters():
        assert param.grad is not None and torch.all(torch.isfinite(param.grad))


@pytest.mark.parametrize("name", NAMES)
def test_differentiable_with_a_nonzero_gradient(name):
    logits, targets = _batch((N,))
    logits.requires_grad_(True)
    build(name)(logits, targets).backward()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_batch_of_models_equals_models_one_at_a_time(name, reduction):
    if reduction != "mean":
        per_sample_only(name, "reduction 'mean' only")
    logits, targets = _batch((K, N))
    batched = build(name, n_models=K, reduction=reduction)(logits, targets)
    single = build(name, reduction=reduction)
    expected = torch.stack([single(logits[k], targets[k]) for k in range(K)])
    assert batched.shape == ((K, N) if reduction == "none" else (K,))
    torch.testing.assert_close(batched, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_reductions_have_the_right_shapes_and_agree(name):
    per_sample_only(name, "no per-sample values, no 'sum' or 'none' reduction")
    logits, targets = _batch((N,))
    none = build(name, reduction="none")(logits, targets)
    total = build(name, reduction="sum")(logits, targets)
    mean_loss = build(name, reduction="mean")
    mean = mean_loss(logits, targets)
    assert none.shape == (N,) and total.shape == () and mean.shape == ()
    torch.testing.assert_close(total, none.sum())
    weights = mean_loss.sample_weights(targets)
    denominator = N if weights is None else weights.to(none.dtype).sum()
    torch.testing.assert_close(mean, none.sum() / denominator)


@pytest.mark.parametrize("name", NAMES)
def test_output_follows_the_logits_dtype(name):
    logits, targets = _batch((N,))
    assert build(name)(logits.float(), targets).dtype == torch.float32
    assert build(name)(logits, targets).dtype == torch.float64
    assert build(name).to(torch.float64)(logits, targets).dtype == torch.float64


@pytest.mark.parametrize("name", NAMES)
def test_rejects_an_unknown_reduction_listing_the_valid_ones(name):
    with pytest.raises(ValueError) as err:
        build(name, reduction="avg")
    assert isinstance(err.value, ConfigError)
    for valid in ("mean",) if LOSSES.get(name).region else ("mean", "sum", "none"):
        assert valid in str(err.value)


@pytest.mark.parametrize("name", [n for n in NAMES if LOSSES.get(n).region])
@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_region_losses_have_only_the_mean(name, reduction):
    with pytest.raises(ConfigError, match=r"expected one of mean\)"):
        build(name, reduction=reduction)
    # The class itself refuses them too (a loss built without the registry's rules).
    with pytest.raises(ConfigError, match=r"\(valid: mean\)"):
        LOSSES.get(name)(reduction=reduction)


@pytest.mark.parametrize("name", NAMES)
def test_one_value_per_model_or_per_sample(name):
    """A region loss gives one value per model and no per-sample values; the others both."""
    logits, targets = _batch((K, N))
    loss = build(name, n_models=K)
    assert loss(logits, targets).shape == (K,)
    assert build(name)(logits[0], targets[0]).shape == ()
    if LOSSES.get(name).region:
        with pytest.raises(NotImplementedError, match="region loss"):
            loss.per_sample(logits, targets)
    else:
        assert loss.per_sample(logits, targets).shape == (K, N)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_an_unknown_parameter_with_a_did_you_mean(name):
    with pytest.raises(ConfigError, match="did you mean 'reduction'"):
        build(name, reductio="mean")


@pytest.mark.parametrize("name", NAMES)
def test_suite_files_cannot_set_reserved_parameters(name):
    accepted = LOSSES.accepted_params(name, reserved=("class_counts", "n_models"))
    assert "class_counts" not in accepted and "n_models" not in accepted
    assert "reduction" in accepted


@pytest.mark.parametrize("name", NAMES)
def test_class_counts_requirement_is_declared_honestly(name):
    if LOSSES.get(name).needs_class_counts:
        with pytest.raises(ConfigError, match="class_counts"):
            get_loss(name)
        # The counts it takes must match the logits.
        loss = build(name)
        logits = torch.zeros(2, C + 1)
        with pytest.raises(ValueError):
            loss(logits, torch.zeros(2, dtype=torch.long))
    else:
        logits, targets = _batch((N,))
        assert torch.isfinite(get_loss(name)(logits, targets))


@pytest.mark.parametrize("name", NAMES)
def test_learned_and_start_epoch_hooks(name):
    loss = build(name, n_models=K)
    loss.start_epoch(0, 10)
    learned = loss.learned()
    assert isinstance(learned, dict)
    for value in learned.values():
        assert isinstance(value, torch.Tensor) and not value.requires_grad
    # Trainable loss parameters are reported; parameter-free losses report nothing.
    assert bool(learned) == any(True for _ in loss.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_never_nan_on_random_wide_logits(name):
    logits, targets = _batch((200,), seed=3, scale=50.0)
    reduction = "mean" if LOSSES.get(name).region else "none"
    value = build(name, reduction=reduction)(logits, targets)
    assert torch.all(torch.isfinite(value))


@pytest.mark.parametrize("name", NAMES)
def test_probabilities_are_a_distribution_with_the_logits_argmax(name):
    logits, _ = _batch((K, N))
    proba = build(name, n_models=K).probabilities(logits)
    assert proba.shape == logits.shape
    torch.testing.assert_close(proba.sum(-1), torch.ones(K, N, dtype=proba.dtype))
    assert torch.equal(proba.argmax(-1), logits.argmax(-1))
