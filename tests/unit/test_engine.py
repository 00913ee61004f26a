"""The batched engine: stacked models equal models trained alone; per-model stopping and divergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dflbench.config import EarlyStopping, ModelConfig, TrainConfig
from dflbench.engine import TrainData, Treatment, batched_macro_f1, train_models
from dflbench.losses import LOSSES
from dflbench.losses._base import Loss

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


def _train(data, treatments, seeds, cfg):
    counts = np.bincount(data.y_train, minlength=data.n_classes).tolist()
    return train_models(data, treatments, seeds, counts, MODEL, cfg, CPU)


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
