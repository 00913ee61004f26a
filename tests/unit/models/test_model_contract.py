"""Contract tests generated from the registry: every model, present and future, is checked here
before anyone writes a test for it (the contract is in dflbench/models/__init__.py). A model's
``task`` attribute (absent: classification) decides the shape of its output: (K, B, C) logits, or
(K, B, H, W, C) per-pixel logits for a segmentation model."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import torch.nn.functional as F

from dflbench.errors import ConfigError
from dflbench.models import HEADS, MODELS, RESERVED, build_model

K, B, C = 3, 5, 4
INPUTS = {"table": (6,), "image": (1, 8, 8)}  # one row's shape: features, or (channels, H, W)


def segments(name: str) -> bool:
    """Whether model ``name`` is a segmentation model (by its ``task``, not its name)."""
    return getattr(MODELS.get(name), "task", "classification") == "segmentation"


def logits_shape(name: str, shape: tuple[int, ...], k: int = K) -> tuple[int, ...]:
    """What ``name`` returns for a (k, B, *shape) batch: a logit vector per row, or per pixel."""
    return (k, B, *shape[1:], C) if segments(name) else (k, B, C)


def build(name: str, shape: tuple[int, ...], seeds: list[int], head: str = "linear", **params):
    return build_model(name, params, n_models=len(seeds), input_shape=shape, n_classes=C,
                       seeds=seeds, head=head)


def _accepts(name: str, shape: tuple[int, ...]) -> bool:
    """A model may refuse an input it cannot handle, with a ConfigError (cnn refuses tables)."""
    try:
        build(name, shape, [0])
    except ConfigError:
        return False
    return True


CASES = [pytest.param(name, shape, id=f"{name}-{kind}")
         for name in MODELS.names() for kind, shape in INPUTS.items() if _accepts(name, shape)]
WRITTEN_OUT = [c for c in CASES if hasattr(MODELS.get(c.values[0]), "forward_backward")]


def _batch(name: str, shape: tuple[int, ...], k: int = K,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs, and targets: a class per row, or per pixel for a segmentation model."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(k, B, *shape, generator=g),
            torch.randint(0, C, logits_shape(name, shape, k)[:-1], generator=g))


@pytest.mark.parametrize("name", MODELS.names())
def test_takes_a_table_or_an_image_and_its_own_arguments_have_defaults(name):
    assert any(c.values[0] == name for c in CASES), f"model '{name}' refuses both a table and an image"
    params = inspect.signature(MODELS.get(name)).parameters.values()
    assert all(p.kind is p.KEYWORD_ONLY for p in params), "constructor arguments are keyword-only"
    # A suite may give a model no parameters: only dflbench's own arguments may lack a default.
    assert {p.name for p in params if p.default is p.empty} <= set(RESERVED)
    assert {"n_models", "n_classes", "seeds", "head"} <= {p.name for p in params}
    assert getattr(MODELS.get(name), "task", "classification") in ("classification", "segmentation")


@pytest.mark.parametrize("name", [n for n in MODELS.names() if segments(n)])
def test_a_segmentation_model_refuses_a_table_with_a_clear_line(name):
    with pytest.raises(ConfigError, match=f"model '{name}'") as refused:
        build(name, INPUTS["table"], [0])
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(("name", "shape"), CASES)
@pytest.mark.parametrize("head", HEADS)
def test_logits_are_per_model_and_every_parameter_has_the_model_axis(name, shape, head):
    model = build(name, shape, [0, 1, 2], head=head)
    x, _ = _batch(name, shape)
    logits = model(x)
    assert logits.shape == logits_shape(name, shape) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()
    if head == "cosine":  # LDAM scales cosines: they must lie in [-1, 1]
        assert logits.abs().max() <= 1 + 1e-6
    params = list(model.parameters())
    assert params and all(p.shape[0] == K for p in params)


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_one_model_per_seed_drawn_as_if_alone(name, shape):
    stack = build(name, shape, [5, 5, 7])
    for p in stack.parameters():
        assert torch.equal(p[0], p[1]), "the same seed must give the same model"
        assert not torch.equal(p[0], p[2]), "different seeds must give different models"
    for q, p in zip(build(name, shape, [7]).parameters(), stack.parameters(), strict=True):
        assert torch.equal(q[0], p[2]), "a stacked model starts where the same model alone does"


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_models_never_mix(name, shape):
    model = build(name, shape, [0, 1, 2])
    x, _ = _batch(name, shape)
    before = model(x)
    x[0] += 1.0
    after = model(x)
    assert not torch.equal(before[0], after[0])
    assert torch.equal(before[1:], after[1:]), "one model's input changed another model's logits"


def _loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-model mean cross-entropy, (K,), over rows or (as the engine reads a segmentation
    model's logits) over every pixel of every image."""
    logits, targets = logits.flatten(1, -2), targets.flatten(1)
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").mean(1)


@pytest.mark.parametrize(("name", "shape"), CASES)
@pytest.mark.parametrize("head", HEADS)
def test_each_stacked_model_computes_what_it_computes_alone_outputs_and_gradients(name, shape, head):
    x, y = _batch(name, shape)
    stack = build(name, shape, [4, 8, 6], head=head)
    _loss(stack(x), y).sum().backward()
    for k, seed in enumerate([4, 8, 6]):
        alone = build(name, shape, [seed], head=head)
        logits = alone(x[k:k + 1])
        torch.testing.assert_close(logits[0], stack(x)[k], rtol=1e-5, atol=1e-6)
        _loss(logits, y[k:k + 1]).sum().backward()
        for q, p in zip(alone.parameters(), stack.parameters(), strict=True):
            torch.testing.assert_close(p.grad[k], q.grad[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_a_model_trained_in_a_stack_equals_the_same_model_trained_alone(name, shape):
    x, y = _batch(name, shape)
    stack, alone = build(name, shape, [0, 1, 2]), build(name, shape, [1])
    for model, xs, ys in ((stack, x, y), (alone, x[1:2], y[1:2])):
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            _loss(model(xs), ys).sum().backward()
            opt.step()
    for q, p in zip(alone.parameters(), stack.parameters(), strict=True):
        torch.testing.assert_close(p[1], q[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "shape"), WRITTEN_OUT)
@pytest.mark.parametrize("head", HEADS)
def test_a_written_out_backward_equals_autograd(name, shape, head):
    model = build(name, shape, [0, 1, 2], head=head)
    x, y = _batch(name, shape)

    def loss_grad(z):
        with torch.enable_grad():
            z = z.detach().requires_grad_()
            losses = _loss(z, y)
            losses.sum().backward()
        return losses.detach(), z.grad

    losses = _loss(model(x), y)
    losses.sum().backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    torch.testing.assert_close(model.forward_backward(x, loss_grad), losses.detach())
    for p, g in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_bad_head_and_seed_count_are_refused(name, shape):
    with pytest.raises(ConfigError, match="invalid head"):
        build(name, shape, [0], head="softmax")
    with pytest.raises(ValueError, match="one seed per model"):
        build_model(name, {}, n_models=2, input_shape=shape, n_classes=C, seeds=[0])


def test_build_model_gives_every_reserved_argument(monkeypatch):
    received = {}

    def probe(**kwargs):
        received.update(kwargs)

    probe.__signature__ = inspect.Signature(  # a model declaring every reserved argument
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in RESERVED])
    monkeypatch.setitem(MODELS._items, "probe", probe)
    build_model("probe", {}, n_models=2, input_shape=(1, 4, 3), n_classes=C, seeds=[3, 4])
    assert set(received) == set(RESERVED)
    assert received == {"n_models": 2, "n_features": 12, "n_classes": C, "seeds": [3, 4],
                        "head": "linear", "input_shape": (1, 4, 3)}


#: Other parameters of each model whose footprint must match too (besides the defaults).
SIZES = {"mlp": [{"hidden": [7, 5, 3]}, {"hidden": []}],
         "cnn": [{"channels": [4]}, {"channels": [3, 5, 2]}],
         "unet": [{"depth": 1, "width": 3}, {"depth": 3, "width": 2}]}


@pytest.mark.parametrize(("name", "shape"), [c.values for c in CASES], ids=[c.id for c in CASES])
def test_the_footprint_counts_the_parameters_built(name, shape):
    """The memory check before training (dflbench.memory) reads a model's size without building
    it: the count must be the built model's."""
    from dflbench.models import footprint

    for params in ({}, *SIZES.get(name, [])):
        model = build(name, shape, [0, 1], **params)
        size = footprint(name, params, input_shape=shape, n_classes=C)
        assert size is not None and size.parameters * 2 == sum(p.numel() for p in model.parameters())
        assert size.activations >= C + shape[0]
        if segments(name):  # at least the input image and a logit vector per pixel
            assert size.activations >= math.prod(shape) + C * math.prod(shape[1:])
