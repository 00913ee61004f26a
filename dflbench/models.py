"""Models written for a batch of K independent models trained at once.

Every parameter carries a leading model dimension K, so one forward/backward pass trains K models
whose computations never mix (``torch.baddbmm`` multiplies each model's activations by its own
weights). Each model is initialised from its own seed, exactly as ``nn.Linear`` would be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dflbench.errors import ConfigError
from dflbench.registry import Registry

MODELS: Registry[type[nn.Module]] = Registry("model")
HEADS = ("linear", "cosine")


@MODELS.register("mlp")
class StackedMLP(nn.Module):
    """K multilayer perceptrons (ReLU) with the same shape and independent weights.

    Input (K, B, F) → logits (K, B, C). ``head="cosine"`` makes the last layer a normalised linear
    layer with outputs in [-1, 1] (cosine similarity, no bias), as LDAM's official code uses.
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
        if head not in HEADS:
            raise ConfigError(f"invalid head '{head}' (valid: {', '.join(HEADS)})")
        if not isinstance(hidden, (list, tuple)) or not all(
            isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden
        ):
            raise ConfigError(f"model 'mlp': hidden must be a list of positive integers, got {hidden!r}")
        if len(seeds) != n_models:
            raise ValueError("one seed per model is required")
        self.head = head
        dims = [n_features, *hidden, n_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
            last = i == len(dims) - 2
            # nn.Linear's default initialisation, drawn per model from that model's own generator.
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.empty(n_models, fan_in, fan_out)
            b = torch.empty(n_models, 1, fan_out)
            for k, g in enumerate(generators):
                w[k].uniform_(-bound, bound, generator=g)
                b[k].uniform_(-bound, bound, generator=g)
            self.weights.append(nn.Parameter(w))
            if not (last and head == "cosine"):
                self.biases.append(nn.Parameter(b))

    def forward(self, x: Tensor) -> Tensor:
        n_layers = len(self.weights)
        h = x
        for i in range(n_layers - 1):
            h = torch.relu(torch.baddbmm(self.biases[i], h, self.weights[i]))
        if self.head == "cosine":
            return torch.bmm(F.normalize(h, dim=-1), F.normalize(self.weights[-1], dim=1))
        return torch.baddbmm(self.biases[-1], h, self.weights[-1])
