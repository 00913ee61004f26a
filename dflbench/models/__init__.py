"""Models written for a batch of K independent models trained at once, registered by name.

Every parameter carries a leading model dimension K, so one forward/backward pass trains K models
whose computations never mix. Each model is initialised from its own seed, exactly as ``nn.Linear``
would be.

The contract the engine relies on (docs/design.md): a model takes a batch of shape (K, B, *row) —
rows of the dataset's X, which may be (N, F) tables or (N, C, H, W) images — and returns logits
(K, B, n_classes); every trainable tensor has K as its leading dimension. That is a classification
model, as is any model without a ``task`` class attribute. A model declaring ``task =
"segmentation"`` (``unet``) takes images (K, B, C, H, W) and returns one logit vector per pixel,
(K, B, H, W, n_classes), classes last (the engine reads every pixel as a sample: (K, B·H·W,
n_classes)); the rest of the contract is the same. Its constructor takes keyword arguments only:
dflbench's own, :data:`RESERVED` (``n_models``; ``n_features``, the number of values in one row,
C·H·W for images; ``n_classes``; ``seeds``, one per model; ``head``, one of :data:`HEADS`;
``input_shape``, one row's shape; a model declares those it uses), and its own, each with a
default, which a suite may set. A model refusing an input it cannot handle raises ConfigError.
A model should also say how large it is, without being built: a static method
``footprint(*, input_shape, n_classes, **params)`` returning a :class:`dflbench.memory.Footprint`
(parameters per model, values per row), so a stack too large for memory is refused before training.
A model may also define ``forward_backward(x, loss_grad)`` (see :meth:`StackedMLP.forward_backward`)
to replace autograd in training; without it the engine uses autograd.

Adding a model is one file in this package with one ``@MODELS.register("name")`` decorator; every
module here is imported on first use, and the contract tests iterate over the registry. Then
``python -m dflbench.catalog --write`` records it for ``dflbench list`` (a test fails until then).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from dflbench.memory import Footprint
from dflbench.models._common import HEADS
from dflbench.registry import MODEL_RESERVED as RESERVED
from dflbench.registry import Registry

MODELS: Registry[type[nn.Module]] = Registry("model")

__all__ = ["HEADS", "MODELS", "RESERVED", "StackedCNN", "StackedMLP", "StackedUNet", "build_model",
           "footprint", "task_of"]


def build_model(name: str, params: Mapping[str, Any], *, n_models: int, input_shape: Sequence[int],
                n_classes: int, seeds: Sequence[int], head: str = "linear") -> nn.Module:
    """Model ``name`` for ``n_models`` stacked models on rows of ``input_shape``, with a suite's
    ``params`` (checked against its signature) and dflbench's own arguments, :data:`RESERVED`,
    derived here once."""
    shape = tuple(int(v) for v in input_shape)
    reserved = {"n_models": n_models, "n_features": math.prod(shape), "n_classes": n_classes,
                "seeds": list(seeds), "head": head, "input_shape": shape}
    return MODELS.build(name, dict(params), reserved=reserved)


def footprint(name: str, params: Mapping[str, Any], *, input_shape: Sequence[int],
              n_classes: int) -> Footprint | None:
    """The size of one model ``name`` with a suite's ``params`` for rows of ``input_shape``, from
    its class's ``footprint`` static method (None for a model without one), computed without
    building the model: the memory check runs before anything large is allocated."""
    describe = getattr(MODELS.get(name), "footprint", None)
    if describe is None:
        return None
    return describe(input_shape=tuple(int(v) for v in input_shape), n_classes=n_classes,
                    **dict(params))


def task_of(name: str) -> str:
    """The task model ``name`` serves: its class's ``task`` attribute ("segmentation" for models
    giving per-pixel logits), "classification" for a model without one."""
    return getattr(MODELS.get(name), "task", "classification")


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_discover()

# The model modules register into MODELS, so they can only be imported once it exists.
from dflbench.models.cnn import StackedCNN  # noqa: E402
from dflbench.models.mlp import StackedMLP  # noqa: E402
from dflbench.models.unet import StackedUNet  # noqa: E402
