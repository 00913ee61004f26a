"""Loss functions for imbalanced classification, registered by name (docs/losses.md).

Public API for your own training code::

    from dflbench.losses import get_loss
    criterion = get_loss("dual_focal")                 # an nn.Module
    loss = criterion(logits, targets)                  # logits (N, C), targets (N,)

Adding a loss is one file in this package with one ``@LOSSES.register("name")`` decorator; every
module here is imported on first use, and the contract tests iterate over the registry. Then
``python -m dflbench.catalog --write`` records it for ``dflbench list`` (a test fails until then).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from typing import Any

from dflbench.errors import ConfigError
from dflbench.losses._base import REDUCTIONS, Loss
from dflbench.registry import Registry

LOSSES: Registry[type[Loss]] = Registry("loss")

#: Parameters dflbench supplies itself; a suite file may not set them.
RESERVED = ("class_counts", "n_models")

__all__ = ["LOSSES", "REDUCTIONS", "Loss", "get_loss"]


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def get_loss(
    name: str,
    *,
    class_counts: Sequence[int] | None = None,
    n_models: int | None = None,
    **params: Any,
) -> Loss:
    """Build the loss ``name`` as an ``nn.Module``.

    ``class_counts`` (one count per class, from the training data) is required by losses that use
    the class prior; ``n_models`` gives trainable loss parameters one value per stacked model (the
    batched engine's K), and is ignored by losses without any. ``params`` are the loss's own
    parameters (see ``dflbench list losses``); an unknown one raises ConfigError (a ValueError).
    """
    cls = LOSSES.get(name)
    if cls.needs_class_counts and class_counts is None:
        raise ConfigError(f"loss '{name}' needs class_counts (one training count per class)")
    return LOSSES.build(
        name, params, reserved={"class_counts": class_counts, "n_models": n_models}
    )


_discover()
