"""How much memory a dataset's stack of models needs, estimated before training, so a model too
large for the machine is refused with the figure instead of being killed (or swapping) an hour
into a run.

A model class may describe its size with a ``footprint(*, input_shape, n_classes, **params)``
static method returning a :class:`Footprint` (``dflbench.models`` documents the contract). The
engine (docs/engine.md) holds, for a stack of ``K`` models, every parameter ``K`` times in several
float32 copies (the values, their gradients, the optimizer's two moments, the values kept when a
model freezes, and the best values under early stopping), the activations of a training step for
``K × batch_size`` rows (and as many gradients), and the activations of the whole test (or
validation) split at once when it scores the models.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Bytes of one float32 value, the engine's dtype.
BYTES = 4
#: Copies of the parameters the engine keeps: values, gradients, two optimizer moments, the
#: values a frozen model keeps; one more with early stopping (the best epoch's values).
PARAMETER_COPIES = 5


@dataclass(frozen=True)
class Footprint:
    """The size of one model: its parameters, and the values one row's forward pass creates."""

    parameters: int
    activations: int


@dataclass(frozen=True)
class StackMemory:
    """Estimated bytes of a stack of models: parameters (all copies) and peak activations."""

    parameters: int
    activations: int

    @property
    def total(self) -> int:
        return self.parameters + self.activations


def stack_memory(footprint: Footprint, n_models: int, batch_size: int, n_scored: int,
                 early_stopping: bool) -> StackMemory:
    """The memory a stack of ``n_models`` needs to train on ``batch_size`` rows a step and to score
    ``n_scored`` rows (the larger of the test and validation splits) at once."""
    copies = PARAMETER_COPIES + (1 if early_stopping else 0)
    rows = max(2 * batch_size, n_scored)  # a step keeps its activations and their gradients
    return StackMemory(footprint.parameters * n_models * copies * BYTES,
                       footprint.activations * n_models * rows * BYTES)


def available_bytes(device: str) -> int | None:
    """Memory available for a new allocation on ``device`` (a CUDA device's free memory, or
    the machine's available memory); None when it cannot be told."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def gib(n: int) -> str:
    """``n`` bytes in GiB, to one decimal (at least 0.1)."""
    return f"{max(n / 2**30, 0.1):.1f} GiB"
