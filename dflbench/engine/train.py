"""The engine's entry point: every (treatment × seed) model of one dataset, in a few stacks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from dflbench.config import ModelConfig, TrainConfig
from dflbench.engine.inputs import TrainData, Treatment
from dflbench.engine.outcome import ModelOutcome
from dflbench.engine.parallel import STACK_PARTS, run_stacks, split
from dflbench.engine.stack import Stack
from dflbench.losses import LOSSES, Loss, get_loss


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without CUDA is a ConfigError."""
    from dflbench.errors import ConfigError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available here (valid: auto, cpu)")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"invalid device '{device}' (valid: auto, cpu, cuda)")
    return torch.device(device)


def train_models(
    data: TrainData,
    treatments: Sequence[Treatment],
    seeds: Sequence[int],
    class_counts: Sequence[int],
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    on_epoch: Callable[[int], None] | None = None,
    workers: int = 1,
) -> list[ModelOutcome]:
    """Train every (treatment × seed) model; returns outcomes in treatment-major order.

    Losses that need another head (e.g. LDAM's cosine head) are trained in their own stack, and
    each head's stack is split into :data:`STACK_PARTS` sub-stacks (by treatment, or by seed for
    a single treatment), ``workers`` of them trained at once in threads
    (:mod:`dflbench.engine.parallel`). ``on_epoch(n_models)`` is called (serialised) after each
    epoch of each sub-stack.
    """
    heads = {t.label: LOSSES.get(t.loss).head for t in treatments}
    parts: list[tuple[str, list[Treatment], list[int]]] = []
    for head in dict.fromkeys(heads.values()):
        group = [t for t in treatments if heads[t.label] == head]
        parts += [(head, sub_group, sub_seeds)
                  for sub_group, sub_seeds in split(group, list(seeds), STACK_PARTS)]
    stacks = [
        Stack(data, group, [_build_loss(t, class_counts, len(sub_seeds)) for t in group], sub_seeds,
              head, model_cfg, train_cfg, device)
        for head, group, sub_seeds in parts
    ]
    outcomes = {(o.treatment, o.seed): o for results in run_stacks(stacks, on_epoch, workers)
                for o in results}
    return [outcomes[(t.label, s)] for t in treatments for s in seeds]


def _build_loss(t: Treatment, class_counts: Sequence[int], n_models: int) -> Loss:
    return get_loss(t.loss, class_counts=list(class_counts), n_models=n_models, **t.params)
