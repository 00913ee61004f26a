"""``cnn``: K small convolutional nets run as one grouped convolution."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dflbench.errors import ConfigError
from dflbench.memory import Footprint
from dflbench.models import MODELS
from dflbench.models._common import check_arguments, generators, init_layer
from dflbench.params import POSITIVE_INT, Rule


@MODELS.register("cnn", rules={"channels": Rule(list, items=POSITIVE_INT, min_len=1)})
class StackedCNN(nn.Module):
    """K small convolutional nets trained at once: ``len(channels)`` blocks of 3×3 convolution
    (padding 1), ReLU and 2×2 max-pooling, then a linear (or cosine) head.

    Input (K, B, C, H, W) → logits (K, B, n_classes). The K models run as one grouped convolution
    (``groups=K``, models stacked as channel groups; docs/engine.md measured 2.4× over one model at
    a time for a tiny CNN on digits), so their computations never mix. Each model is initialised
    from its own seed as ``nn.Conv2d``/``nn.Linear`` would be.
    """

    def __init__(
        self,
        *,
        n_models: int,
        n_features: int,
        n_classes: int,
        seeds: Sequence[int],
        input_shape: Sequence[int] = (),
        head: str = "linear",
        channels: Sequence[int] = (16, 32),
    ) -> None:
        super().__init__()
        check_arguments("cnn", n_models=n_models, seeds=seeds, head=head)
        if len(input_shape) != 3:
            raise ConfigError("model 'cnn' needs image data (N, channels, H, W); this dataset is "
                              "tabular: use model 'mlp'")
        in_ch, height, width = (int(v) for v in input_shape)
        if min(height, width) < 2 ** len(channels):
            raise ConfigError(f"model 'cnn': {len(channels)} pooling blocks need images of at "
                              f"least {2 ** len(channels)}×{2 ** len(channels)} pixels, got "
                              f"{height}×{width}")
        self.k, self.head, self.n_classes = n_models, head, n_classes
        gens = generators(seeds)
        self.conv_weights = nn.ParameterList()
        self.conv_biases = nn.ParameterList()
        for out_ch in channels:
            w, b = init_layer(gens, (out_ch, in_ch, 3, 3), (out_ch,), in_ch * 9)
            self.conv_weights.append(nn.Parameter(w))
            self.conv_biases.append(nn.Parameter(b))
            in_ch, height, width = out_ch, height // 2, width // 2
        fan_in = in_ch * height * width
        w, b = init_layer(gens, (fan_in, n_classes), (1, n_classes), fan_in)
        self.head_weight = nn.Parameter(w)
        self.head_bias = nn.Parameter(b) if head == "linear" else None

    @staticmethod
    def footprint(*, input_shape: Sequence[int], n_classes: int,
                  channels: Sequence[int] = (16, 32)) -> Footprint:
        """One model's parameters, and the values a row creates (its input, each block's
        convolution and pooled outputs, the logits), for the memory check before training
        (:mod:`dflbench.memory`)."""
        if len(input_shape) != 3:
            return Footprint(0, 0)  # refused with its reason when the model is built
        in_ch, height, width = (int(v) for v in input_shape)
        parameters, values = 0, in_ch * height * width
        for out_ch in channels:
            parameters += out_ch * in_ch * 9 + out_ch
            values += out_ch * height * width + out_ch * (height // 2) * (width // 2)
            in_ch, height, width = out_ch, height // 2, width // 2
        parameters += (in_ch * height * width + 1) * n_classes
        return Footprint(parameters, values + n_classes)

    def forward(self, x: Tensor) -> Tensor:
        k, batch = x.shape[0], x.shape[1]
        # Models become channel groups: (K, B, C, H, W) → (B, K·C, H, W).
        h = x.transpose(0, 1).reshape(batch, -1, *x.shape[3:])
        for w, b in zip(self.conv_weights, self.conv_biases):
            h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), b.reshape(-1), padding=1, groups=k)
            h = F.max_pool2d(h.relu_(), 2)
        features = h.reshape(batch, k, -1).transpose(0, 1)  # (K, B, features)
        if self.head == "cosine":
            return torch.bmm(F.normalize(features, dim=-1), F.normalize(self.head_weight, dim=1))
        return torch.baddbmm(self.head_bias, features, self.head_weight)
