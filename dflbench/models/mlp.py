"""``mlp``: K multilayer perceptrons in batched matrix products (``torch.baddbmm`` multiplies each
model's activations by its own weights), with a written-out backward pass."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dflbench.memory import Footprint
from dflbench.models import MODELS
from dflbench.models._common import check_arguments, generators, init_layer
from dflbench.params import POSITIVE_INT, Rule


@MODELS.register("mlp", rules={"hidden": Rule(list, items=POSITIVE_INT)})
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
        # hidden=[] is a linear model.
        check_arguments("mlp", n_models=n_models, seeds=seeds, head=head)
        self.head = head
        dims = [n_features, *hidden, n_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        gens = generators(seeds)
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
            last = i == len(dims) - 2
            # nn.Linear's default initialisation, drawn per model from that model's own generator
            # (weights as (fan_in, fan_out), then the bias; the output layer is stored transposed).
            w, b = init_layer(gens, (fan_in, fan_out), (1, fan_out), fan_in)
            if last:
                w, b = w.transpose(1, 2).contiguous(), b.transpose(1, 2).contiguous()
            self.weights.append(nn.Parameter(w))
            if not (last and head == "cosine"):
                self.biases.append(nn.Parameter(b))

    @staticmethod
    def footprint(*, input_shape: Sequence[int], n_classes: int,
                  hidden: Sequence[int] = (64, 64)) -> Footprint:
        """One model's parameters, and the values a row creates (its input and each layer's
        output), for the memory check before training (:mod:`dflbench.memory`)."""
        dims = [math.prod(input_shape), *hidden, n_classes]
        return Footprint(sum(a * b + b for a, b in itertools.pairwise(dims)), sum(dims))

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
