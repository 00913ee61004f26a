"""The batched engine: stacked models equal models trained alone (and a plain PyTorch loop);
per-model stopping and divergence; the fast paths equal what they replace."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from dflbench.config import EarlyStopping, ModelConfig, TrainConfig
from dflbench.engine import (
    FlatOptimizer,
    FlatParameters,
    TrainData,
    Treatment,
    _run_stacks,
    _Stopped,
    batched_macro_f1,
    train_models,
)
from dflbench.losses import LOSSES, get_loss
from dflbench.losses._base import Loss
from dflbench.models import MODELS, StackedMLP

CPU = torch.device("cpu")


def _data(n=240, f=6, c=3, seed=0, val=True) -> TrainData:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(c, f))
    y = rng.choice(c, size=n, p=[0.6, 0.3, 0.1][:c] if c == 3 else None)
    X = (centers[y] + rng.normal(size=(n, f))).astype(np.float32)
    cut = int(n * 0.8)
    return TrainData(X[:cut], y[:cut], X[cut:] if val else None, y[cut:] if val else None,
                     X[cut:], c)


TREATMENTS = [Treatment("ce", "ce"), Treatment("dfl", "dual_focal"),
              Treatment("learn", "dual_focal_learnable")]
MODEL = ModelConfig("mlp", {"hidden": [16, 16]})


def _train(data, treatments, seeds, cfg, workers=1, on_epoch=None):
    counts = np.bincount(data.y_train, minlength=data.n_classes).tolist()
    return train_models(data, treatments, seeds, counts, MODEL, cfg, CPU, on_epoch, workers)


def test_model_in_stack_equals_model_trained_alone():
    data = _data()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01)
    stacked = _train(data, TREATMENTS, [0, 1, 2], cfg)
    for t in TREATMENTS:
        for seed in (0, 2):
            alone = _train(data, [t], [seed], cfg)[0]
            inside = next(o for o in stacked if o.treatment == t.label and o.seed == seed)
            np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)
            if t.label == "learn":
                assert inside.learned["gamma"]["trajectory"] == pytest.approx(
                    alone.learned["gamma"]["trajectory"], abs=1e-5)


def test_same_seed_same_result_and_different_seeds_differ():
    data = _data()
    cfg = TrainConfig(epochs=2, batch_size=64, lr=0.01)
    a = _train(data, TREATMENTS[:1], [0, 1], cfg)
    b = _train(data, TREATMENTS[:1], [0, 1], cfg)
    np.testing.assert_array_equal(a[0].proba, b[0].proba)
    assert not np.allclose(a[0].proba, a[1].proba)


def test_learnable_gamma_has_one_trajectory_per_model_within_bounds():
    data = _data()
    cfg = TrainConfig(epochs=5, batch_size=32, lr=0.05)
    out = _train(data, [Treatment("learn", "dual_focal_learnable")], [0, 1], cfg)
    for o in out:
        traj = o.learned["gamma"]["trajectory"]
        assert len(traj) == 5 and all(0.5 <= g <= 5.0 for g in traj)
        assert o.learned["gamma"]["value"] == pytest.approx(traj[-1])
        assert traj[-1] != pytest.approx(1.0)  # it was trained, not left at its initial value
    assert out[0].learned["gamma"]["trajectory"] != out[1].learned["gamma"]["trajectory"]


def test_early_stopping_is_per_model_and_restores_best():
    data = _data()
    cfg = TrainConfig(epochs=40, batch_size=32, lr=0.05,
                      early_stopping=EarlyStopping(patience=2, validation=0.2))
    out = _train(data, TREATMENTS[:2], [0, 1, 2], cfg)
    runs = [o.epochs_run for o in out]
    assert min(runs) < 40
    for o in out:
        assert 1 <= o.best_epoch <= o.epochs_run
        assert o.epochs_run - o.best_epoch <= 2 or o.epochs_run == 40


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
    data = _data()
    cfg = TrainConfig(epochs=5, batch_size=32, lr=0.01)
    treatments = [Treatment("ce", "ce"), Treatment("boom", "exploding")]
    out = _train(data, treatments, [0, 1], cfg)
    ce_alone = _train(data, treatments[:1], [0, 1], cfg)
    for o in out:
        if o.treatment == "boom":
            assert o.status == "diverged" and o.proba is None and "epoch 3" in o.error
            assert o.epochs_run == 3
        else:
            assert o.status == "ok" and o.epochs_run == 5
    np.testing.assert_allclose(out[0].proba, ce_alone[0].proba, atol=1e-5)


def test_batched_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 50)
    preds = rng.integers(0, 4, (3, 50))
    preds[2] = 0  # a model predicting one class: zero_division cases
    got = batched_macro_f1(torch.as_tensor(preds), torch.as_tensor(y), 4)
    want = [f1_score(y, p, labels=range(4), average="macro", zero_division=0) for p in preds]
    assert got.tolist() == pytest.approx(want)


# --- the fast paths: flat optimizer, written-out backward, generic inputs --------------------

def _flat_and_reference(optimizer: str, wd: float, fused):
    """A stack-like pair of tensors in a FlatOptimizer, and clones under torch.optim."""
    gen = torch.Generator().manual_seed(0)
    w = nn.Parameter(torch.randn(3, 4, 5, generator=gen))
    r = nn.Parameter(torch.randn(3, generator=gen))
    w_ref, r_ref = (nn.Parameter(p.detach().clone()) for p in (w, r))
    flat = FlatParameters([(w, 0, True), (r, 0, False)], 3, CPU)
    opt = FlatOptimizer(flat, TrainConfig(lr=0.05, weight_decay=wd, optimizer=optimizer), fused=fused)
    groups = [{"params": [w_ref], "weight_decay": wd}, {"params": [r_ref], "weight_decay": 0.0}]
    if optimizer == "sgd":
        ref = torch.optim.SGD(groups, lr=0.05, momentum=0.9)
    else:
        cls = torch.optim.AdamW if optimizer == "adamw" else torch.optim.Adam
        ref = cls(groups, lr=0.05, fused=bool(opt.fused))
    return (w, r), (w_ref, r_ref), flat, opt, ref


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("wd", [0.0, 0.01])
@pytest.mark.parametrize("fused", [None, False])
def test_flat_optimizer_equals_torch_optim_bit_for_bit(optimizer, wd, fused):
    (w, r), (w_ref, r_ref), flat, opt, ref = _flat_and_reference(optimizer, wd, fused)
    gen = torch.Generator().manual_seed(1)
    for _ in range(6):
        gw, gr = torch.randn(w.shape, generator=gen), torch.randn(r.shape, generator=gen)
        flat.zero_grad()
        w.grad.add_(gw)
        r.grad.add_(gr)
        opt.step()
        w_ref.grad, r_ref.grad = gw.clone(), gr.clone()
        ref.step()
    assert torch.equal(w, w_ref) and torch.equal(r, r_ref)


def test_parameters_and_gradients_are_views_of_the_flat_buffers():
    (w, r), _, flat, _, _ = _flat_and_reference("adam", 0.0, None)
    assert w.data_ptr() == flat.data.data_ptr()
    assert r.grad.data_ptr() == flat.grad[w.numel():].data_ptr()
    (w.sum() * 2 + r.sum()).backward()  # autograd accumulates into the existing views
    flat.check_grads()
    assert torch.equal(flat.grad, torch.cat([torch.full((60,), 2.0), torch.ones(3)]))


def test_frozen_members_never_change_and_nan_stays_in_its_member():
    (w, _), _, flat, opt, _ = _flat_and_reference("adam", 0.01, None)
    opt.freeze(torch.tensor([False, True, False]))
    before = w.detach().clone()
    for _ in range(3):
        flat.zero_grad()
        w.grad.normal_()
        w.grad[2] = float("nan")  # member 2 diverges
        opt.step()
    assert torch.equal(w[1], before[1])
    assert not torch.equal(w[0], before[0]) and torch.isfinite(w[0]).all()
    assert torch.isnan(w[2]).all()


def test_shared_trainable_tensor_is_refused():
    p = nn.Parameter(torch.zeros(()))
    with pytest.raises(ValueError, match="leading model dimension"):
        FlatParameters([(p, 0, False)], 4, CPU)


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
    flat = _data(f=8)
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
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(X), generator=order)
        for start in range(0, len(X), cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            opt.zero_grad()
            loss(model(X[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        return loss.probabilities(model(torch.as_tensor(data.X_test))).double().numpy()


@pytest.mark.skipif(not hasattr(torch, "_fused_adam_"), reason="needs torch's fused Adam")
def test_engine_equals_a_plain_pytorch_loop():
    data = _data()
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    stacked = _train(data, TREATMENTS, [0, 3], cfg)
    for o in stacked:
        loss = {t.label: t.loss for t in TREATMENTS}[o.treatment]
        want = _plain_loop(data, loss, o.seed, cfg)
        np.testing.assert_allclose(o.proba, want, atol=1e-4)


def test_an_early_stopped_model_ends_exactly_at_its_best_epoch():
    data = _data()
    es = EarlyStopping(patience=2, validation=0.2)
    cfg = TrainConfig(epochs=25, batch_size=32, lr=0.05, early_stopping=es)
    stacked = _train(data, TREATMENTS[:2], [0, 1, 2], cfg)
    assert any(o.epochs_run < 25 for o in stacked)
    for o in stacked[:4]:
        t = next(t for t in TREATMENTS if t.label == o.treatment)
        alone = _train(data, [t], [o.seed], TrainConfig(epochs=o.best_epoch, batch_size=32, lr=0.05))
        np.testing.assert_allclose(o.proba, alone[0].proba, atol=1e-5)


def test_cosine_head_stack_equals_models_trained_alone():
    data = _data()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01)
    ldam = [Treatment("ldam", "ldam", {"drw_start": 0.5}), Treatment("ldam2", "ldam", {"s": 10.0})]
    stacked = _train(data, ldam + TREATMENTS[:1], [0, 1], cfg)
    # LDAM's cosine head trains in its own stack, split in two by treatment; CE's (one treatment)
    # is split by seed.
    assert {o.treatment: o.stack_size for o in stacked} == {"ldam": 2, "ldam2": 2, "ce": 1}
    for t in ldam:
        alone = _train(data, [t], [1], cfg)[0]
        inside = next(o for o in stacked if o.treatment == t.label and o.seed == 1)
        np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)


def test_sub_stacks_trained_at_once_give_the_same_models_as_one_after_the_other():
    """The split into sub-stacks is fixed, so how many run at once (--jobs, the machine's cores)
    never changes a number."""
    data = _data()
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    counted = []
    one, two = (_train(data, TREATMENTS, [0, 1], cfg, workers=w, on_epoch=counted.append)
                for w in (1, 2))
    assert max(o.stack_size for o in one) < len(TREATMENTS) * 2  # split, even with one worker
    for a, b in zip(one, two):
        assert (a.treatment, a.seed) == (b.treatment, b.seed)
        np.testing.assert_array_equal(a.proba, b.proba)
        assert a.learned == b.learned
    # Every model-epoch is reported once per run, whichever thread trained it.
    assert sum(counted) == 2 * len(TREATMENTS) * 2 * cfg.epochs


class _FakeStack:
    def __init__(self, fail: bool) -> None:
        self.fail, self.saw_stop = fail, False

    def run(self, on_epoch, stop):
        if self.fail:
            raise ValueError("boom")
        self.saw_stop = stop.wait(timeout=10)
        raise _Stopped


def test_a_failing_sub_stack_stops_the_others_and_its_error_propagates():
    stacks = [_FakeStack(fail=False), _FakeStack(fail=True)]
    with pytest.raises(ValueError, match="boom"):
        _run_stacks(stacks, None, workers=2)
    assert stacks[0].saw_stop


@pytest.mark.parametrize(("cores", "concurrency", "expected"),
                         [(2, 1, 2), (2, 2, 1), (1, 1, 1), (16, 1, 2), (16, 4, 2), (3, 2, 1), (8, None, 1)])
def test_each_task_gets_its_share_of_the_cores_up_to_one_thread_per_sub_stack(
        monkeypatch, cores, concurrency, expected):
    import dflbench.runner as runner

    monkeypatch.setattr(runner, "available_cores", lambda: cores)
    assert runner.stack_workers(concurrency) == expected


def test_early_stopping_on_validation_loss_ends_each_model_at_its_lowest_loss_epoch():
    data = _data()
    es = EarlyStopping(patience=2, validation=0.2, monitor="loss")
    cfg = TrainConfig(epochs=30, batch_size=32, lr=0.05, early_stopping=es)
    stacked = _train(data, TREATMENTS[:2], [0, 1], cfg)
    assert any(o.epochs_run < 30 for o in stacked)
    # The same model trained alone for 1, 2, ... epochs, scored on the validation rows.
    on_val = replace(data, X_test=data.X_val)
    y_val = torch.as_tensor(data.y_val)
    for o in stacked:
        t = next(t for t in TREATMENTS if t.label == o.treatment)
        loss = get_loss(t.loss, class_counts=np.bincount(data.y_train).tolist())
        val_loss = [float(loss(torch.log(torch.as_tensor(_train(
            on_val, [t], [o.seed], TrainConfig(epochs=e, batch_size=32, lr=0.05))[0].proba)), y_val))
            for e in range(1, o.epochs_run + 1)]
        assert o.best_epoch == 1 + int(np.argmin(val_loss))
        assert o.epochs_run - o.best_epoch <= es.patience
