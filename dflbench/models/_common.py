"""What the stacked models share: argument checks and per-model seeded initialisation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from dflbench.errors import ConfigError

#: The output layers a model offers; a loss picks one (``Loss.head``: LDAM wants cosine logits).
HEADS = ("linear", "cosine")


def check_arguments(model: str, *, n_models: int, seeds: Sequence[int], head: str) -> None:
    """dflbench's own arguments of a model: a known head and one seed per model. (A suite's
    parameters follow the rules the model's ``@MODELS.register`` declares.)"""
    if head not in HEADS:
        raise ConfigError(f"invalid head '{head}' (valid: {', '.join(HEADS)})")
    if len(seeds) != n_models:
        raise ValueError(f"model '{model}': one seed per model is required "
                         f"({len(seeds)} seeds for {n_models} models)")


def generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One generator per model, seeded with that model's seed."""
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def init_layer(generators: Sequence[torch.Generator], w_shape: tuple[int, ...],
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
