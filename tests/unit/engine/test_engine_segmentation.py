"""The engine on segmentation masks: pixels are the losses' rows, ignored pixels count nowhere,
and a stacked model equals the same model trained alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from dflbench.config import ModelConfig, TrainConfig
from dflbench.datasets import IGNORE
from dflbench.engine import TrainData, Treatment, train_models
from dflbench.engine.pixels import as_rows, scored_pixels
from dflbench.losses import get_loss

CPU = torch.device("cpu")
UNET = ModelConfig("unet", {"depth": 1, "width": 4})
TREATMENTS = [Treatment("ce", "ce"), Treatment("dfl", "dual_focal"),
              Treatment("dice", "soft_dice"), Treatment("learn", "dual_focal_learnable")]


def make_masks(n: int = 40, size: int = 8, seed: int = 0, ignore: bool = True) -> TrainData:
    """Images whose first channel is bright where a square (class 1) or a dot (class 2) lies;
    a border row of ignored pixels; the last 10 images are the validation and test images."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        r, c = rng.integers(0, size - 3, 2)
        masks[i, r:r + 3, c:c + 3] = 1
        masks[i, rng.integers(0, size), rng.integers(0, size)] = 2
    X = (rng.normal(scale=0.3, size=(n, 2, size, size)) + (masks > 0)[:, None]).astype(np.float32)
    if ignore:
        masks[:, 0, :] = IGNORE
    return TrainData(X[:30], masks[:30], X[30:], masks[30:], X[30:], 3)


def _train(data, treatments, seeds, cfg):
    labelled = data.y_train[data.y_train >= 0]
    counts = np.bincount(labelled, minlength=3).tolist()
    return train_models(data, treatments, seeds, counts, UNET, cfg, CPU)


def test_as_rows_flattens_pixels_and_masks_the_ignored_ones():
    logits = torch.randn(2, 3, 4, 5, 6)
    targets = torch.randint(0, 6, (2, 3, 4, 5))
    rows, flat, mask = as_rows(logits, targets)
    assert rows.shape == (2, 60, 6) and flat.shape == (2, 60) and mask is None
    assert rows.data_ptr() == logits.data_ptr()  # a view, no copy
    targets[1, 0, 0, 0] = IGNORE
    rows, flat, mask = as_rows(logits, targets)
    assert mask.sum() == 119 and not mask[1, 0] and flat.min() >= 0
    labels, plain = torch.randint(0, 6, (2, 3)), logits[:, :, 0, 0]
    rows, flat, mask = as_rows(plain, labels)
    assert rows is plain and flat is labels and mask is None


def test_scored_pixels_keep_the_labelled_pixels_of_every_model():
    logits = torch.randn(2, 3, 4, 4, 5)
    masks = torch.randint(0, 5, (3, 4, 4))
    masks[0, 0] = IGNORE
    rows, targets = scored_pixels(logits, masks)
    assert rows.shape == (2, 44, 5) and targets.shape == (44,) and targets.min() >= 0
    torch.testing.assert_close(rows[1], logits[1].reshape(-1, 5)[masks.reshape(-1) >= 0])


def test_the_training_loss_is_the_loss_over_labelled_pixels():
    """One step's loss of each model equals the loss over its batch's labelled pixels alone."""
    data = make_masks()
    cfg = TrainConfig(epochs=1, batch_size=30, lr=0.0)  # one full batch; lr 0 keeps the weights
    out = _train(data, [Treatment("ce", "ce")], [0], cfg)[0]
    from dflbench.models import build_model

    model = build_model("unet", UNET.params, n_models=1, input_shape=(2, 8, 8), n_classes=3,
                        seeds=[0])
    with torch.no_grad():
        logits = model(torch.as_tensor(data.X_train)[None])
    y = torch.as_tensor(data.y_train)[None]
    keep = y >= 0
    with torch.no_grad():
        expected = get_loss("ce")(logits[keep][None], y[keep][None])
    assert out.history["loss"][0] == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_model_in_stack_equals_model_trained_alone(early_stopping):
    from dflbench.config import EarlyStopping

    data = make_masks()
    es = EarlyStopping(patience=2, validation=0.2) if early_stopping else None
    cfg = TrainConfig(epochs=3, batch_size=8, lr=0.01, early_stopping=es)
    stacked = _train(data, TREATMENTS, [0, 1], cfg)
    for t in TREATMENTS:
        alone = _train(data, [t], [1], cfg)[0]
        inside = next(o for o in stacked if o.treatment == t.label and o.seed == 1)
        assert inside.proba.shape == (10, 8, 8, 3)
        np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)
        assert inside.history["loss"] == pytest.approx(alone.history["loss"], rel=1e-5)


def test_ignored_pixels_are_left_out_not_read_as_the_placeholder_class():
    """The losses see an ignored pixel's target as class 0 (a placeholder) with a mask; were the
    mask lost, training would equal training with those pixels labelled 0."""
    data = make_masks()
    as_background = replace(data, y_train=np.where(data.y_train == IGNORE, 0, data.y_train))
    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.01)
    for t in TREATMENTS[:3]:
        ignored, counted = (_train(d, [t], [0], cfg)[0] for d in (data, as_background))
        assert not np.allclose(ignored.proba, counted.proba, atol=1e-4), t.label
