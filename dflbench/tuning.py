"""Equal-budget tuning (Musgrave et al., ECCV 2020): the configurations a treatment is tuned over,
and the treatment a configuration stands for. Choosing among them happens per training fold in
:mod:`dflbench.task`, on a validation carve the test fold never reaches."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from typing import Any

from dflbench.config import LossEntry, Tuning

SAMPLER_PREFIX = "sampler."


def configurations(entry: LossEntry, tuning: Tuning | None, seed: int) -> list[dict[str, Any]]:
    """The cartesian product of the treatment's grid, in order, or a seeded sample of ``budget``
    of them when the grid is larger (the same suite always samples the same ones); ``[{}]``, one
    configuration, for an untuned treatment."""
    if not entry.tune:
        return [{}]
    keys = list(entry.tune)
    grid = [dict(zip(keys, values)) for values in itertools.product(*entry.tune.values())]
    budget = None if tuning is None else tuning.budget
    if budget is not None and len(grid) > budget:
        picked = sorted(random.Random(seed).sample(range(len(grid)), budget))
        grid = [grid[i] for i in picked]
    return grid


def configured(entry: LossEntry, config: dict[str, Any], label: str | None = None) -> LossEntry:
    """The treatment with ``config`` applied (loss parameters, and ``sampler.*`` ones), untuned."""
    loss = {k: v for k, v in config.items() if not k.startswith(SAMPLER_PREFIX)}
    sampler = {k.removeprefix(SAMPLER_PREFIX): v for k, v in config.items()
               if k.startswith(SAMPLER_PREFIX)}
    return replace(entry, label=label or entry.label, params={**entry.params, **loss},
                   sampler_params={**entry.sampler_params, **sampler}, tune={})


def config_text(config: dict[str, Any]) -> str:
    """``gamma=2, sampler.k_neighbors=3`` (``default`` for the untuned configuration)."""
    return ", ".join(f"{k}={v}" for k, v in config.items()) or "default"
