"""``unet``: K small U-Nets (Ronneberger et al. 2015) for semantic segmentation, one logit vector
per pixel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dflbench.errors import ConfigError
from dflbench.memory import Footprint
from dflbench.models import MODELS
from dflbench.models._common import check_arguments, generators, init_layer
from dflbench.params import POSITIVE_INT


@MODELS.register("unet", rules={"depth": POSITIVE_INT, "width": POSITIVE_INT})
class StackedUNet(nn.Module):
    """K small U-Nets trained at once: per-pixel logits for semantic segmentation.

    Input (K, B, C, H, W) → logits (K, B, H, W, n_classes), classes last (the engine reads every
    pixel as a sample). ``depth`` levels: at level ``l`` one 3×3 convolution (padding 1) + ReLU
    with ``width·2^l`` channels, then 2×2 max-pooling; a bottleneck convolution with
    ``width·2^depth`` channels; back up, each level a 2×2 transposed convolution (stride 2, halving
    the channels, as the paper's up-convolution), the encoder's feature map of that level
    concatenated, and a 3×3 convolution + ReLU; a 1×1 convolution to ``n_classes`` (or, with
    ``head="cosine"``, the cosine of each pixel's L2-normalised features with L2-normalised class
    weights, no bias, as LDAM uses). H and W must be divisible by ``2^depth``.

    One convolution per level, not the paper's two, and the models run one after the other, each
    on channels-last images, rather than as one grouped convolution: both measured fastest on a
    CPU (``benchmarks/bench_unet.py``, docs/engine.md). Models never mix; each is initialised from
    its own seed as ``nn.Conv2d`` / ``nn.ConvTranspose2d`` would be.
    """

    task = "segmentation"

    def __init__(
        self,
        *,
        n_models: int,
        n_classes: int,
        seeds: Sequence[int],
        input_shape: Sequence[int] = (),
        head: str = "linear",
        depth: int = 2,
        width: int = 8,
    ) -> None:
        super().__init__()
        check_arguments("unet", n_models=n_models, seeds=seeds, head=head)
        in_ch, _, _ = _image_shape(input_shape, depth)
        self.k, self.head, self.n_classes, self.depth = n_models, head, n_classes, depth
        gens = generators(seeds)

        def conv(out_ch: int, in_ch: int, size: int) -> tuple[nn.Parameter, nn.Parameter]:
            w, b = init_layer(gens, (out_ch, in_ch, size, size), (out_ch,), in_ch * size * size)
            return nn.Parameter(w), nn.Parameter(b)

        # Drawn in the order the layers run (each model's generator draws weight, then bias).
        self.down = nn.ParameterList()  # per level: weight (K, out, in, 3, 3), bias (K, out)
        for level in range(depth + 1):  # the last is the bottleneck
            self.down.extend(conv(width * 2 ** level, in_ch, 3))
            in_ch = width * 2 ** level
        self.up = nn.ParameterList()  # per level, deepest first: up-convolution, then convolution
        for level in reversed(range(depth)):
            out_ch = width * 2 ** level
            # nn.ConvTranspose2d's weight is (in, out, 2, 2) and its init reads fan_in off dim 1.
            w, b = init_layer(gens, (in_ch, out_ch, 2, 2), (out_ch,), out_ch * 4)
            self.up.extend((nn.Parameter(w), nn.Parameter(b)))
            self.up.extend(conv(out_ch, 2 * out_ch, 3))
            in_ch = out_ch
        w, b = init_layer(gens, (n_classes, in_ch), (n_classes,), in_ch)  # a 1×1 convolution
        self.head_weight = nn.Parameter(w)
        self.head_bias = nn.Parameter(b) if head == "linear" else None

    @staticmethod
    def footprint(*, input_shape: Sequence[int], n_classes: int, depth: int = 2,
                  width: int = 8) -> Footprint:
        """One model's parameters, and the values an image creates (its input and its
        channels-last copy; every convolution's, pooling's, up-convolution's and concatenation's
        output, the skips among them; the logits), for the memory check before training
        (:mod:`dflbench.memory`)."""
        if len(input_shape) != 3:
            return Footprint(0, 0)  # refused with its reason when the model is built
        in_ch, height, width_px = (int(v) for v in input_shape)
        pixels = height * width_px
        parameters, values = 0, 2 * in_ch * pixels
        for level in range(depth + 1):
            out_ch, area = width * 2 ** level, pixels // 4 ** level
            parameters += out_ch * in_ch * 9 + out_ch
            values += out_ch * area + (out_ch * area // 4 if level < depth else 0)
            in_ch = out_ch
        for level in reversed(range(depth)):
            out_ch, area = width * 2 ** level, pixels // 4 ** level
            parameters += in_ch * out_ch * 4 + out_ch + out_ch * 2 * out_ch * 9 + out_ch
            values += out_ch * area * 4  # up-convolution, concatenation (twice), convolution
            in_ch = out_ch
        parameters += (in_ch + 1) * n_classes
        return Footprint(parameters, values + n_classes * pixels)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[0] != self.k:
            raise ValueError(f"model 'unet': a batch for {x.shape[0]} models, built for {self.k}")
        # Unbound once: the backward pass stacks each tensor's K gradients once (indexing w[k]
        # in the loop would add a full-size gradient K times).
        down = [p.unbind(0) for p in self.down]
        up = [p.unbind(0) for p in self.up]
        head_w = self.head_weight.unbind(0)
        head_b = self.head_bias.unbind(0) if self.head_bias is not None else None
        out = []
        for k in range(self.k):
            # Channels-last ((B, C, H, W) strided as (B, H, W, C)), a layout the convolutions,
            # pooling and concatenation keep; copied per model, so the same images for every
            # model (the engine's test split, expanded) are not copied K times at once.
            h = x[k].contiguous(memory_format=torch.channels_last)
            skips = []
            for level in range(self.depth + 1):
                if level:
                    skips.append(h)
                    h = F.max_pool2d(h, 2)
                h = F.conv2d(h, down[2 * level][k], down[2 * level + 1][k], padding=1).relu_()
            for level in range(self.depth):
                h = F.conv_transpose2d(h, up[4 * level][k], up[4 * level + 1][k], stride=2)
                h = torch.cat((skips.pop(), h), dim=1)
                h = F.conv2d(h, up[4 * level + 2][k], up[4 * level + 3][k], padding=1).relu_()
            features = h.permute(0, 2, 3, 1)  # (B, H, W, channels), contiguous
            if head_b is None:
                out.append(F.linear(F.normalize(features, dim=-1),
                                    F.normalize(head_w[k], dim=-1)))
            else:
                out.append(F.linear(features, head_w[k], head_b[k]))
        return torch.stack(out)


def _image_shape(input_shape: Sequence[int], depth: int) -> tuple[int, int, int]:
    """(channels, H, W) of an image this U-Net can segment, or ConfigError with the reason."""
    if len(input_shape) != 3:
        raise ConfigError("model 'unet' needs image data (N, channels, H, W); this dataset is "
                          "tabular")
    channels, height, width = (int(v) for v in input_shape)
    if height % 2 ** depth or width % 2 ** depth:
        raise ConfigError(f"model 'unet': depth {depth} halves the image {depth} times, so H and W "
                          f"must be divisible by {2 ** depth}; got {height}×{width}")
    return channels, height, width
