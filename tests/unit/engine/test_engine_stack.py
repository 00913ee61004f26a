"""One stack: stacked models equal models trained alone (and a plain PyTorch loop), per-model
divergence, learned loss parameters, and the written-out backward and image paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dflbench.config import ModelConfig, TrainConfig
from dflbench.engine import TrainData, Treatment, train_models
from dflbench.losses import LOSSES, get_loss
from dflbench.losses._base import Loss
from dflbench.models import MODELS, StackedMLP
from tests.unit.engine.engine_fixtures import CPU, MODEL, TREATMENTS, make_data, train


def test_model_in_stack_equals_model_trained_alone():
    data = make_data()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01)
    stacked = train(data, TREATMENTS, [0, 1, 2], cfg)
    for t in TREATMENTS:
        for seed in (0, 2):
            alone = train(data, [t], [seed], cfg)[0]
            inside = next(o for o in stacked if o.treatment == t.label and o.seed == seed)
            np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)
            assert inside.history["loss"] == pytest.approx(alone.history["loss"], rel=1e-5)
            if t.label == "learn":
                assert inside.learned["gamma"]["trajectory"] == pytest.approx(
                    alone.learned["gamma"]["trajectory"], abs=1e-5)


def test_same_seed_same_result_and_different_seeds_differ():
    data = make_data()
    cfg = TrainConfig(epochs=2, batch_size=64, lr=0.01)
    a = train(data, TREATMENTS[:1], [0, 1], cfg)
    b = train(data, TREATMENTS[:1], [0, 1], cfg)
    np.testing.assert_array_equal(a[0].proba, b[0].proba)
    assert not np.allclose(a[0].proba, a[1].proba)


def test_learnable_gamma_has_one_trajectory_per_model_within_bounds():
    data = make_data()
    cfg = TrainConfig(epochs=5, batch_size=32, lr=0.05)
    out = train(data, [Treatment("learn", "dual_focal_learnable")], [0, 1], cfg)
    for o in out:
        traj = o.learned["gamma"]["trajectory"]
        assert len(traj) == 5 and all(0.5 <= g <= 5.0 for g in traj)
        assert o.learned["gamma"]["value"] == pytest.approx(traj[-1])
        assert traj[-1] != pytest.approx(1.0)  # it was trained, not left at its initial value
    assert out[0].learned["gamma"]["trajectory"] != out[1].learned["gamma"]["trajectory"]


class _ExplodingLoss(Loss):
    """CE that turns NaN from the third epoch on (to test divergence handling)."""

    name, title, source = "exploding", "exploding", "test"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.epoch = 0

    def start_epoch(self, epoch: int, n_epochs: int) -> None:
        self.epoch = epoch

    def per_sample(self, logits, targets):
        ce = -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return ce * (float("nan") if self.epoch >= 2 else 1.0)


def test_diverged_model_is_marked_and_the_others_finish(monkeypatch):
    monkeypatch.setitem(LOSSES._items, "exploding", _ExplodingLoss)
    data = make_data()
    cfg = TrainConfig(epochs=5, batch_size=32, lr=0.01)
    treatments = [Treatment("ce", "ce"), Treatment("boom", "exploding")]
    out = train(data, treatments, [0, 1], cfg)
    ce_alone = train(data, treatments[:1], [0, 1], cfg)
    for o in out:
        if o.treatment == "boom":
            assert o.status == "diverged" and o.proba is None and "epoch 3" in o.error
            assert o.epochs_run == 3
            # Its history stops at the epoch it diverged in, whose loss is not finite.
            assert len(o.history["loss"]) == 3 and np.isnan(o.history["loss"][-1])
            assert np.isfinite(o.history["loss"][:2]).all()
        else:
            assert o.status == "ok" and o.epochs_run == 5 and len(o.history["loss"]) == 5
    np.testing.assert_allclose(out[0].proba, ce_alone[0].proba, atol=1e-5)


@pytest.mark.parametrize("head", ["linear", "cosine"])
def test_written_out_backward_equals_autograd(head):
    model = StackedMLP(n_models=3, n_features=4, n_classes=3, seeds=[0, 1, 2], head=head,
                       hidden=[7, 5])
    x = torch.randn(3, 10, 4)
    y = torch.randint(0, 3, (3, 10))
    loss = get_loss("dual_focal")

    def loss_grad(z):
        with torch.enable_grad():
            z = z.detach().requires_grad_()
            per_model = loss(z, y)
            per_model.sum().backward()
        return per_model.detach(), z.grad

    model.zero_grad()
    loss(model(x), y).sum().backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    model.forward_backward(x, loss_grad)
    for p, g in zip(model.parameters(), expected):
        torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-6)


class _ImageMLP(nn.Module):
    """A model without a written-out backward, for (N, C, H, W) inputs: the generic path."""

    def __init__(self, *, n_models, n_features, n_classes, seeds, head="linear", hidden=(16, 16)):
        super().__init__()
        self.inner = StackedMLP(n_models=n_models, n_features=n_features, n_classes=n_classes,
                                seeds=seeds, head=head, hidden=hidden)

    def forward(self, x):
        return self.inner(x.flatten(start_dim=2))


def test_image_inputs_and_the_autograd_path_match_the_mlp(monkeypatch):
    monkeypatch.setitem(MODELS._items, "image_mlp", _ImageMLP)
    flat = make_data(f=8)
    images = TrainData(*(None if a is None else (a.reshape(len(a), 2, 2, 2) if a.ndim == 2 else a)
                         for a in (flat.X_train, flat.y_train, flat.X_val, flat.y_val, flat.X_test)),
                       n_classes=flat.n_classes)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    counts = np.bincount(flat.y_train, minlength=3).tolist()
    a = train_models(images, TREATMENTS, [0, 1], counts, ModelConfig("image_mlp", {"hidden": [16, 16]}),
                     cfg, CPU)
    b = train_models(flat, TREATMENTS, [0, 1], counts, MODEL, cfg, CPU)
    for x, z in zip(a, b):
        np.testing.assert_allclose(x.proba, z.proba, atol=1e-5)


def _plain_loop(data, loss_name, seed, cfg, hidden=(16, 16)):
    """One model the ordinary way: nn.Linear layers, torch.optim.Adam, the engine's init and
    minibatch order (StackedMLP.layers gives the init; one randperm per epoch from the seed)."""
    init = StackedMLP(n_models=1, n_features=data.X_train.shape[1], n_classes=data.n_classes,
                      seeds=[seed], hidden=list(hidden)).layers(0)
    layers = []
    for i, (w, b) in enumerate(init):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data.copy_(w)
        lin.bias.data.copy_(b)
        layers += [lin] if i == len(init) - 1 else [lin, nn.ReLU()]
    model = nn.Sequential(*layers)
    counts = np.bincount(data.y_train, minlength=data.n_classes).tolist()
    loss = get_loss(loss_name, class_counts=counts)
    groups = [{"params": list(model.parameters())}]
    if list(loss.parameters()):
        groups.append({"params": list(loss.parameters()), "weight_decay": 0.0})
    opt = torch.optim.Adam(groups, lr=cfg.lr, fused=True)
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    order = torch.Generator().manual_seed(seed)
    epoch_losses = []
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(X), generator=order)
        batch_losses = []
        for start in range(0, len(X), cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            opt.zero_grad()
            value = loss(model(X[idx]), y[idx])
            value.backward()
            opt.step()
            batch_losses.append(value.item())
        epoch_losses.append(float(np.mean(batch_losses)))
    with torch.no_grad():
        return loss.probabilities(model(torch.as_tensor(data.X_test))).double().numpy(), epoch_losses


@pytest.mark.skipif(not hasattr(torch, "_fused_adam_"), reason="needs torch's fused Adam")
def test_engine_equals_a_plain_pytorch_loop():
    data = make_data()
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    stacked = train(data, TREATMENTS, [0, 3], cfg)
    for o in stacked:
        loss = {t.label: t.loss for t in TREATMENTS}[o.treatment]
        want, epoch_losses = _plain_loop(data, loss, o.seed, cfg)
        np.testing.assert_allclose(o.proba, want, atol=1e-4)
        # The recorded training loss of each epoch is the mean of its minibatch losses.
        assert o.history == {"loss": pytest.approx(epoch_losses, rel=1e-4)}


def test_cosine_head_stack_equals_models_trained_alone():
    data = make_data()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01)
    ldam = [Treatment("ldam", "ldam", {"drw_start": 0.5}), Treatment("ldam2", "ldam", {"s": 10.0})]
    stacked = train(data, ldam + TREATMENTS[:1], [0, 1], cfg)
    # LDAM's cosine head trains in its own stack, split in two by treatment; CE's (one treatment)
    # is split by seed.
    assert {o.treatment: o.stack_size for o in stacked} == {"ldam": 2, "ldam2": 2, "ce": 1}
    for t in ldam:
        alone = train(data, [t], [1], cfg)[0]
        inside = next(o for o in stacked if o.treatment == t.label and o.seed == 1)
        np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)
