"""Parameter rules shared by every loss: one error shape that names the loss, the parameter and
what is valid (habit 5 of docs/design.md)."""

from __future__ import annotations

import math
from numbers import Real

from dflbench.errors import ConfigError


def _interval(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    if (ge is not None or gt is not None) and (le is not None or lt is not None):
        lo = f"[{ge:g}" if ge is not None else f"({gt:g}"
        hi = f"{le:g}]" if le is not None else f"{lt:g})"
        return f"in {lo}, {hi}"
    parts = []
    if ge is not None:
        parts.append(f">= {ge:g}")
    if gt is not None:
        parts.append(f"> {gt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    return " and ".join(parts)


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
    rule = _interval(ge, gt, le, lt)
    what = f"a finite number {rule}" if rule else "a finite number"
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"loss '{owner}': parameter '{param}' must be {what} (got {value!r})")
    x = float(value)
    if (
        (ge is not None and not x >= ge)
        or (gt is not None and not x > gt)
        or (le is not None and not x <= le)
        or (lt is not None and not x < lt)
    ):
        raise ConfigError(f"loss '{owner}': parameter '{param}' must be {rule} (got {value!r})")
    return x


def n_models(owner: str, value: object) -> int | None:
    """``None`` (one model, or shared parameters) or a positive number of stacked models."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"loss '{owner}': n_models must be None or a positive integer (got {value!r})"
        )
    return value
