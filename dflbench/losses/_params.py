"""Parameter checks shared by the losses, through the one rule mechanism of :mod:`dflbench.params`.

A loss declares the rules of its own parameters in its ``@LOSSES.register(name, rules=...)``
decorator, and the registry checks them whenever a loss is built (``get_loss``); the helpers here
cover what a fixed rule cannot say (a bound that depends on another parameter, list items)."""

from __future__ import annotations

from dflbench.errors import ConfigError
from dflbench.losses._base import REDUCTIONS
from dflbench.params import Rule

#: The rule of every loss's ``reduction``.
REDUCTION = Rule(str, choices=REDUCTIONS)


def number(
    owner: str,
    param: str,
    value: object,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> float:
    """``value`` as a float if it is a finite real number within the bounds, else ConfigError."""
    return Rule(float, ge=ge, gt=gt, le=le, lt=lt).check(value, f"loss '{owner}': parameter '{param}'")


def n_models(owner: str, value: object) -> int | None:
    """``None`` (one model, or shared parameters) or a positive number of stacked models."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"loss '{owner}': n_models must be None or a positive integer (got {value!r})"
        )
    return value
