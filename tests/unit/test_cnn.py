"""The stacked CNN: grouped convolutions keep K models independent, through the engine too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dflbench.augment import Augment
from dflbench.config import ModelConfig, TrainConfig
from dflbench.engine import TrainData, Treatment, train_models
from dflbench.errors import ConfigError
from dflbench.models import MODELS

CPU = torch.device("cpu")


def _cnn(k, seeds, channels=(4, 8), shape=(1, 8, 8), classes=3, head="linear"):
    return MODELS.build("cnn", {"channels": list(channels)}, reserved=dict(
        n_models=k, n_features=int(np.prod(shape)), input_shape=shape, n_classes=classes,
        seeds=seeds, head=head))


def test_each_stacked_cnn_equals_the_same_cnn_alone_and_matches_torch_layers():
    x = torch.randn(3, 5, 1, 8, 8)
    stack = _cnn(3, [0, 1, 2])
    for k, seed in enumerate([0, 1, 2]):
        alone = _cnn(1, [seed])
        torch.testing.assert_close(stack(x)[k], alone(x[k:k + 1])[0], atol=1e-5, rtol=1e-5)
    # The same computation written with ordinary torch layers.
    k = 1
    conv1, conv2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 8, 3, padding=1)
    for conv, w, b in ((conv1, stack.conv_weights[0], stack.conv_biases[0]),
                       (conv2, stack.conv_weights[1], stack.conv_biases[1])):
        conv.weight.data.copy_(w[k])
        conv.bias.data.copy_(b[k])
    h = nn.functional.max_pool2d(conv2(nn.functional.max_pool2d(conv1(x[k]).relu(), 2)).relu(), 2)
    ref = h.flatten(1) @ stack.head_weight[k] + stack.head_bias[k]
    torch.testing.assert_close(stack(x)[k], ref, atol=1e-5, rtol=1e-5)


def test_cosine_head_outputs_cosines():
    out = _cnn(2, [0, 1], head="cosine")(torch.randn(2, 4, 1, 8, 8))
    assert out.abs().max() <= 1.0 + 1e-6


@pytest.mark.parametrize(("params", "shape", "message"), [
    ({"channels": []}, (1, 8, 8),
     r"parameter 'channels': \[\] is invalid \(expected a non-empty list of integers >= 1\)"),
    ({"channels": [4, 4, 4, 4]}, (1, 8, 8), "need images of at least 16"),
    ({"channels": [4]}, (8,), "needs image data"),
])
def test_bad_configurations_are_clear_errors(params, shape, message):
    with pytest.raises(ConfigError, match=message):
        MODELS.build("cnn", params, reserved=dict(n_models=1, n_features=8, input_shape=shape,
                                                  n_classes=3, seeds=[0]))


def _images(n=150, seed=0) -> tuple[TrainData, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    X = rng.normal(scale=0.3, size=(n, 1, 8, 8)).astype(np.float32)
    for c in range(3):  # each class lights up its own rows
        X[y == c, 0, 2 * c:2 * c + 2, :] += 1.0
    cut = int(n * 0.8)
    return TrainData(X[:cut], y[:cut], None, None, X[cut:], 3), y[cut:]


@pytest.mark.parametrize("augment", [Augment(), Augment(shift=1, flip=True)])
def test_cnn_in_the_engine_equals_cnn_trained_alone_and_learns(augment):
    data, y_test = _images()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01, augment=augment)
    model = ModelConfig("cnn", {"channels": [4, 8]})
    counts = np.bincount(data.y_train, minlength=3).tolist()
    treatments = [Treatment("ce", "ce"), Treatment("dfl", "dual_focal_learnable")]
    stacked = train_models(data, treatments, [0, 1], counts, model, cfg, CPU)
    alone = train_models(data, treatments[1:], [1], counts, model, cfg, CPU)[0]
    inside = next(o for o in stacked if o.treatment == "dfl" and o.seed == 1)
    np.testing.assert_allclose(inside.proba, alone.proba, atol=1e-5)
    assert (stacked[0].proba.argmax(1) == y_test).mean() > 0.6
