"""Models written for a batch of K independent models trained at once.

Every parameter carries a leading model dimension K, so one forward/backward pass trains K models
whose computations never mix (``torch.baddbmm`` multiplies each model's activations by its own
weights). Each model is initialised from its own seed, exactly as ``nn.Linear`` would be.

The contract the engine relies on (docs/design.md, docs/engine.md): a model takes a batch of
shape (K, B, *row) — rows of the dataset's X, which may be (N, F) tables or (N, C, H, W) images —
and returns logits (K, B, n_classes); every trainable tensor has K as its leading dimension. The
reserved constructor arguments are ``n_models``, ``n_features`` (X's second axis: features, or
channels for images), ``n_classes``, ``seeds`` (one per model) and ``head``. A model may also
define ``forward_backward(x, loss_grad)`` (see :meth:`StackedMLP.forward_backward`) to replace
autograd in training; without it the engine uses autograd.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dflbench.errors import ConfigError
from dflbench.registry import Registry

MODELS: Registry[type[nn.Module]] = Registry("model")
HEADS = ("linear", "cosine")

def _check_widths(model: str, head: str, param: str, widths: object, allow_empty: bool = False) -> None:
    """One error shape for a model's head and its list of layer widths."""
    if head not in HEADS:
        raise ConfigError(f"invalid head '{head}' (valid: {', '.join(HEADS)})")
    if not isinstance(widths, (list, tuple)) or not (widths or allow_empty) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in widths
    ):
        what = "a list" if allow_empty else "a non-empty list"
        raise ConfigError(f"model '{model}': {param} must be {what} of positive integers, got {widths!r}")


def _init_layer(generators: Sequence[torch.Generator], w_shape: tuple[int, ...],
                b_shape: tuple[int, ...], fan_in: int) -> tuple[Tensor, Tensor]:
    """nn.Linear / nn.Conv2d's default initialisation (uniform within 1/sqrt(fan_in), weight then
    bias), drawn for each model from that model's own generator: (K, *w_shape), (K, *b_shape)."""
    bound = 1.0 / math.sqrt(fan_in)
    w = torch.empty(len(generators), *w_shape)
    b = torch.empty(len(generators), *b_shape)
    for k, g in enumerate(generators):
        w[k].uniform_(-bound, bound, generator=g)
        b[k].uniform_(-bound, bound, generator=g)
    return w, b


@MODELS.register("mlp")
class StackedMLP(nn.Module):
    """K multilayer perceptrons (ReLU) with the same shape and independent weights.

    Input (K, B, F) → logits (K, B, C). ``head="cosine"`` makes the last layer a normalised linear
    layer with outputs in [-1, 1] (cosine similarity, no bias), as LDAM's official code uses.

    Hidden layers are stored as (K, fan_in, fan_out) and computed as ``h W + b``. The output layer
    is stored class-major, (K, C, fan_in) like ``nn.Linear``, and computed as ``(W h^T)^T``: with
    few classes, a batched matmul whose *rows* are the classes ran 1.7-2.2x faster on the project's
    machine than one whose columns are (a 5-column-wide output ran at 4 GFLOP/s, docs/engine.md).
    :meth:`layers` gives every layer in ``nn.Linear``'s layout.
    """

    def __init__(
        self,
        *,
        n_models: int,
        n_features: int,
        n_classes: int,
        seeds: Sequence[int],
        head: str = "linear",
        hidden: Sequence[int] = (64, 64),
    ) -> None:
        super().__init__()
        _check_widths("mlp", head, "hidden", hidden, allow_empty=True)  # [] is a linear model
        if len(seeds) != n_models:
            raise ValueError("one seed per model is required")
        self.head = head
        dims = [n_features, *hidden, n_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
            last = i == len(dims) - 2
            # nn.Linear's default initialisation, drawn per model from that model's own generator
            # (weights as (fan_in, fan_out), then the bias; the output layer is stored transposed).
            w, b = _init_layer(generators, (fan_in, fan_out), (1, fan_out), fan_in)
            if last:
                w, b = w.transpose(1, 2).contiguous(), b.transpose(1, 2).contiguous()
            self.weights.append(nn.Parameter(w))
            if not (last and head == "cosine"):
                self.biases.append(nn.Parameter(b))

    def forward(self, x: Tensor) -> Tensor:
        n_layers = len(self.weights)
        h = x.flatten(2)  # images (K, B, C, H, W) are read as flat rows
        for i in range(n_layers - 1):
            h = torch.baddbmm(self.biases[i], h, self.weights[i]).relu_()
        return self._output(h)

    def _output(self, h: Tensor) -> Tensor:
        """The last layer on (K, B, H) activations: (K, B, C) logits (a transposed view)."""
        w = self.weights[-1]  # (K, C, H)
        if self.head == "cosine":
            return torch.bmm(F.normalize(w, dim=-1), F.normalize(h, dim=-1).transpose(1, 2)
                             ).transpose(1, 2)
        return torch.baddbmm(self.biases[-1], w, h.transpose(1, 2)).transpose(1, 2)

    def forward_backward(
        self, x: Tensor, loss_grad: Callable[[Tensor], tuple[Tensor, Tensor]]
    ) -> Tensor:
        """One training step's forward and backward pass, written out instead of recorded by
        autograd (fewer, larger ops: no graph, no gradient zeroing or accumulation passes).
        ``loss_grad(logits)`` returns (per-model losses, d sum / d logits), both for (K, B, C)
        logits; each parameter's ``.grad`` is overwritten with its gradient. Returns the losses.

        The gradients equal autograd's (the same products; tested). The cosine head uses autograd.
        """
        if self.head == "cosine":
            with torch.enable_grad():
                z = self(x)
                losses, grad = loss_grad(z.detach())
                z.backward(grad)
            return losses
        with torch.no_grad():
            acts = [x.flatten(2)]
            for i in range(len(self.weights) - 1):
                acts.append(torch.baddbmm(self.biases[i], acts[-1], self.weights[i]).relu_())
            losses, grad = loss_grad(self._output(acts[-1]))
            # Output layer, class-major: dW = g^T h, db = sum_rows g, dh = g W.
            w, h = self.weights[-1], acts[-1]
            torch.bmm(grad.transpose(1, 2), h, out=_grad_of(w))
            torch.sum(grad.transpose(1, 2), dim=2, keepdim=True, out=_grad_of(self.biases[-1]))
            grad = torch.bmm(grad, w)
            for i in range(len(self.weights) - 2, -1, -1):
                torch.ops.aten.threshold_backward(grad, acts[i + 1], 0, grad_input=grad)
                w, h = self.weights[i], acts[i]
                torch.bmm(h.transpose(1, 2), grad, out=_grad_of(w))
                torch.sum(grad, dim=1, keepdim=True, out=_grad_of(self.biases[i]))
                if i:
                    grad = torch.bmm(grad, w.transpose(1, 2))
        return losses

    def layers(self, k: int) -> list[tuple[Tensor, Tensor | None]]:
        """Model ``k``'s layers as ``nn.Linear`` holds them: (weight (out, in), bias (out,) or
        None), detached copies (to compare with, or to start, a model trained alone)."""
        out = []
        for i, w in enumerate(self.weights):
            last = i == len(self.weights) - 1
            b = self.biases[i][k].detach().reshape(-1).clone() if i < len(self.biases) else None
            out.append((w[k].detach().clone() if last else w[k].detach().t().contiguous(), b))
        return out


def _grad_of(p: Tensor) -> Tensor:
    if p.grad is None:
        p.grad = torch.empty_like(p)
    return p.grad


@MODELS.register("cnn")
class StackedCNN(nn.Module):
    """K small convolutional nets trained at once: ``len(channels)`` blocks of 3×3 convolution
    (padding 1), ReLU and 2×2 max-pooling, then a linear (or cosine) head.

    Input (K, B, C, H, W) → logits (K, B, n_classes). The K models run as one grouped convolution
    (``groups=K``, models stacked as channel groups; docs/engine.md: 2.4× over one model at
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
        _check_widths("cnn", head, "channels", channels)
        if len(input_shape) != 3:
            raise ConfigError("model 'cnn' needs image data (N, channels, H, W); this dataset is "
                              "tabular: use model 'mlp'")
        in_ch, height, width = (int(v) for v in input_shape)
        if min(height, width) < 2 ** len(channels):
            raise ConfigError(f"model 'cnn': {len(channels)} pooling blocks need images of at "
                              f"least {2 ** len(channels)}×{2 ** len(channels)} pixels, got "
                              f"{height}×{width}")
        self.k, self.head, self.n_classes = n_models, head, n_classes
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.conv_weights = nn.ParameterList()
        self.conv_biases = nn.ParameterList()
        for out_ch in channels:
            w, b = _init_layer(generators, (out_ch, in_ch, 3, 3), (out_ch,), in_ch * 9)
            self.conv_weights.append(nn.Parameter(w))
            self.conv_biases.append(nn.Parameter(b))
            in_ch, height, width = out_ch, height // 2, width // 2
        fan_in = in_ch * height * width
        w, b = _init_layer(generators, (fan_in, n_classes), (1, n_classes), fan_in)
        self.head_weight = nn.Parameter(w)
        self.head_bias = nn.Parameter(b) if head == "linear" else None

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
