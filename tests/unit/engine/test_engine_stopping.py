"""Per-model stopping: the Stopping object's contract (divergence, early stopping, restore-best),
the validation scores, and early stopping through the engine."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dflbench.config import MONITORS, EarlyStopping, TrainConfig
from dflbench.engine import FlatParameters, Stopping, batched_macro_f1
from dflbench.engine.stopping import StopRecord, validation_score
from dflbench.losses import get_loss
from tests.unit.engine.engine_fixtures import CPU, TREATMENTS, make_data, train

NAN = float("nan")


def _run(stopping: Stopping, weights: torch.Tensor, losses: list, scores: list | None,
         start: int = 1) -> list:
    """Epochs ``start``, ``start + 1``, ...: the models still training take the epoch's number as their weights (the
    optimizer leaves frozen ones alone); returns what each after_epoch froze."""
    froze = []
    for i, loss in enumerate(losses):
        epoch = start + i
        with torch.no_grad():
            weights[~stopping.frozen] = float(epoch)
        score = None if scores is None else torch.tensor(scores[i])
        froze.append(stopping.after_epoch(epoch, torch.tensor(loss), score).tolist())
    return froze


def test_stopping_freezes_each_model_once_and_ends_each_at_its_best_epoch():
    w = nn.Parameter(torch.zeros(3, 2))
    stopping = Stopping(FlatParameters([(w, 0, True)], 3, CPU), 3, EarlyStopping(patience=2))
    # Model 0 improves until epoch 5; model 1 peaks at epoch 2; model 2 diverges in epoch 3.
    scores = [[0.1, 0.5, 0.1], [0.2, 0.9, 0.2], [0.3, 0.8, 0.3], [0.4, 0.7, 0.9], [0.5, 0.6, 0.9],
              [0.45, 0.6, 0.9]]
    losses = [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, NAN], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0],
              [1.0, 1.0, 1.0]]
    froze = _run(stopping, w, losses[:4], scores[:4])
    assert froze == [[False] * 3, [False] * 3, [False, False, True], [False, True, False]]
    assert w[1].tolist() == [2.0, 2.0]  # stopped early: back at its best epoch at once
    assert stopping.frozen.tolist() == [False, True, True]
    assert _run(stopping, w, losses[4:], scores[4:], start=5) == [[False] * 3] * 2
    assert w[0].tolist() == [6.0, 6.0]
    stops = stopping.finish()
    assert w[:, 0].tolist() == [5.0, 2.0, 3.0]  # model 0 at its best (not its last) epoch
    assert stops == [StopRecord(epochs_run=6, best_epoch=5, diverged_at=None),
                     StopRecord(epochs_run=4, best_epoch=2, diverged_at=None),
                     StopRecord(epochs_run=3, best_epoch=None, diverged_at=3)]


def test_without_early_stopping_only_divergence_stops_a_model():
    w = nn.Parameter(torch.zeros(2, 3))
    stopping = Stopping(FlatParameters([(w, 0, True)], 2, CPU), 2, None)
    froze = _run(stopping, w, [[1.0, 1.0], [1.0, float("inf")], [1.0, 1.0]], None)
    assert froze == [[False, False], [False, True], [False, False]]
    assert stopping.finish() == [StopRecord(3, None, None), StopRecord(2, None, 2)]
    assert w[:, 0].tolist() == [3.0, 2.0]  # no best to restore: each keeps its last weights


def test_early_stopping_without_a_score_is_refused():
    w = nn.Parameter(torch.zeros(2, 3))
    stopping = Stopping(FlatParameters([(w, 0, True)], 2, CPU), 2, EarlyStopping())
    with pytest.raises(ValueError, match="validation scores"):
        stopping.after_epoch(1, torch.ones(2))


@pytest.mark.parametrize("monitor", MONITORS)
def test_every_monitor_scores_the_better_model_higher(monitor):
    targets = torch.tensor([0, 1, 2, 2, 1, 0])
    good = 4.0 * F.one_hot(targets, 3).float()
    logits = torch.stack([good, good.roll(1, dims=-1), torch.zeros(6, 3)])  # right, wrong, unsure
    losses = lambda z, t: F.cross_entropy(z.transpose(1, 2), t, reduction="none").mean(1)  # noqa: E731
    score = validation_score(monitor, logits, targets, 3, losses)
    assert score.shape == (3,) and score[0] > score[1] and score[0] > score[2]


def test_an_unknown_monitor_is_refused():
    with pytest.raises(ValueError, match="unknown monitor 'auc'"):
        validation_score("auc", torch.zeros(1, 2, 3), torch.zeros(2, dtype=torch.long), 3, None)


def test_batched_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 50)
    preds = rng.integers(0, 4, (3, 50))
    preds[2] = 0  # a model predicting one class: zero_division cases
    got = batched_macro_f1(torch.as_tensor(preds), torch.as_tensor(y), 4)
    want = [f1_score(y, p, labels=range(4), average="macro", zero_division=0) for p in preds]
    assert got.tolist() == pytest.approx(want)


@pytest.mark.parametrize(("epochs", "patience"), [(25, 2), (8, 50)],
                         ids=["restored when stopped", "restored when training ends"])
def test_early_stopping_is_per_model_and_restores_best(epochs, patience):
    """Each model stops on its own, and ends with the parameters of its best epoch: its test
    probabilities equal those of the same model trained alone for ``best_epoch`` epochs, and differ
    from those after its last epoch."""
    data = make_data()
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=0.05,
                      early_stopping=EarlyStopping(patience=patience, validation=0.2))
    stacked = train(data, TREATMENTS[:2], [0, 1, 2], cfg)
    if patience < epochs:
        assert len({o.epochs_run for o in stacked}) > 1 and min(o.epochs_run for o in stacked) < epochs
    restored = 0
    for o in stacked:
        assert 1 <= o.best_epoch <= o.epochs_run
        assert o.epochs_run - o.best_epoch <= patience or o.epochs_run == epochs
        # One recorded value per epoch trained; the best epoch is the first with the top macro-F1.
        assert len(o.history["loss"]) == len(o.history["validation"]) == o.epochs_run
        assert o.history["monitor"] == "macro_f1"
        assert o.best_epoch == 1 + int(np.argmax(o.history["validation"]))
        t = next(t for t in TREATMENTS if t.label == o.treatment)
        at_best, at_last = (train(data, [t], [o.seed], replace(cfg, epochs=e, early_stopping=None))[0]
                            for e in (o.best_epoch, o.epochs_run))
        np.testing.assert_allclose(o.proba, at_best.proba, atol=1e-5)
        if o.best_epoch < o.epochs_run:
            assert not np.allclose(o.proba, at_last.proba, atol=1e-4)
            restored += 1
    assert restored  # some model did end away from its last epoch


def test_early_stopping_on_validation_loss_ends_each_model_at_its_lowest_loss_epoch():
    data = make_data()
    es = EarlyStopping(patience=2, validation=0.2, monitor="loss")
    cfg = TrainConfig(epochs=30, batch_size=32, lr=0.05, early_stopping=es)
    stacked = train(data, TREATMENTS[:2], [0, 1], cfg)
    assert any(o.epochs_run < 30 for o in stacked)
    # The same model trained alone for 1, 2, ... epochs, scored on the validation rows.
    on_val = replace(data, X_test=data.X_val)
    y_val = torch.as_tensor(data.y_val)
    for o in stacked:
        t = next(t for t in TREATMENTS if t.label == o.treatment)
        loss = get_loss(t.loss, class_counts=np.bincount(data.y_train).tolist())
        val_loss = [float(loss(torch.log(torch.as_tensor(train(
            on_val, [t], [o.seed], TrainConfig(epochs=e, batch_size=32, lr=0.05))[0].proba)), y_val))
            for e in range(1, o.epochs_run + 1)]
        assert o.best_epoch == 1 + int(np.argmin(val_loss))
        assert o.epochs_run - o.best_epoch <= es.patience
        # The history holds each epoch's validation loss as a loss (not the negated score).
        assert o.history["monitor"] == "loss"
        assert o.history["validation"] == pytest.approx(val_loss, rel=1e-4)
        assert len(o.history["loss"]) == o.epochs_run
