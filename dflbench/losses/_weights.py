"""Per-class weights, one strategy shared by every loss that weights classes (habit 4 of
docs/design.md): ``weighted_ce``'s ``weights``, ``focal``'s ``alpha`` and ``ldam``'s DRW phase.

Schemes (docs/losses.md), computed in float64 from the training class counts ``n_c``:

- ``"inverse"``: ``w_c ∝ 1 / n_c``, normalised so ``sum_c w_c = C``;
- ``"effective"``: effective number of samples (Cui, Jia, Lin, Song, Belongie, CVPR 2019),
  ``w_c = (1 - beta) / (1 - beta^n_c)``, normalised so ``sum_c w_c = C``;
- ``"balanced"``: scikit-learn's ``class_weight="balanced"``, ``w_c = N / (C n_c)`` (not renormalised);
- an explicit list of ``C`` non-negative weights, used as given (as ``cross_entropy(weight=w)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dflbench.errors import ConfigError, unknown
from dflbench.losses._params import number

SCHEMES = ("inverse", "effective", "balanced")

#: What a user may write for a weighting: a scheme name or one weight per class.
WeightSpec = str | Sequence[float]


def as_class_counts(class_counts: Any, *, owner: str = "loss") -> np.ndarray:
    """Validated training class counts as a float64 vector (one positive count per class)."""
    if isinstance(class_counts, Tensor):
        class_counts = class_counts.detach().cpu().numpy()
    if isinstance(class_counts, (str, bytes, dict)):
        raise ConfigError(
            f"loss '{owner}': class_counts must be a sequence of one count per class "
            f"(got {class_counts!r})"
        )
    try:
        counts = np.asarray(class_counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"loss '{owner}': class_counts must be a sequence of one count per class "
            f"(got {class_counts!r})"
        ) from None
    if counts.ndim != 1 or counts.size == 0:
        raise ConfigError(
            f"loss '{owner}': class_counts must be a non-empty 1-D sequence (got shape "
            f"{counts.shape})"
        )
    if not np.all(np.isfinite(counts)) or np.any(counts <= 0):
        bad = [i for i, n in enumerate(counts) if not (np.isfinite(n) and n > 0)]
        raise ConfigError(
            f"loss '{owner}': class_counts must all be positive and finite; class(es) {bad} "
            f"have {[class_counts[i] for i in bad]} (every class needs training examples)"
        )
    return counts


def check_size(values: Tensor, logits: Tensor, *, owner: str, what: str) -> None:
    """Raise ConfigError when a per-class vector does not match the logits' class axis."""
    if values.shape[-1] != logits.shape[-1]:
        raise ConfigError(
            f"loss '{owner}': {what} has {values.shape[-1]} classes but the logits have "
            f"{logits.shape[-1]}"
        )


@dataclass(frozen=True)
class ClassWeighting:
    """A validated weighting: a scheme name from ``SCHEMES`` or an explicit per-class list.

    Build with :meth:`parse` (which validates, naming ``param`` of loss ``owner`` in errors), then
    call :meth:`weights` with the class counts to get float64 weights.
    """

    scheme: str | None
    explicit: tuple[float, ...] | None = None
    beta: float = 0.9999

    @classmethod
    def parse(
        cls, spec: WeightSpec, *, beta: float = 0.9999, owner: str = "loss", param: str = "weights"
    ) -> ClassWeighting:
        if isinstance(spec, str):
            if spec not in SCHEMES:
                raise ConfigError(
                    f"loss '{owner}': parameter '{param}': "
                    + unknown("weighting scheme", spec, SCHEMES)
                    + " or a list of one weight per class"
                )
            beta = number(owner, "beta", beta, ge=0.0, lt=1.0)
            return cls(scheme=spec, beta=beta)
        if isinstance(spec, (Sequence, np.ndarray, Tensor)) and not isinstance(spec, bytes):
            values = [
                number(owner, f"{param}[{i}]", w, ge=0.0) for i, w in enumerate(_as_list(spec))
            ]
            if not values or sum(values) <= 0:
                raise ConfigError(
                    f"loss '{owner}': parameter '{param}' needs one non-negative weight per class, "
                    f"not all zero (got {list(spec)!r})"
                )
            return cls(scheme=None, explicit=tuple(values))
        raise ConfigError(
            f"loss '{owner}': parameter '{param}' must be one of {', '.join(SCHEMES)} or a list of "
            f"one weight per class (got {spec!r})"
        )

    @property
    def needs_counts(self) -> bool:
        """Whether :meth:`weights` needs the class counts (every scheme does; a list does not)."""
        return self.scheme is not None

    def weights(
        self, class_counts: Any = None, *, owner: str = "loss", param: str = "weights"
    ) -> np.ndarray:
        """Float64 per-class weights; ``class_counts`` is required for a scheme and, for an
        explicit list, only checked against its length."""
        if self.scheme is None:
            assert self.explicit is not None
            w = np.asarray(self.explicit, dtype=np.float64)
            if class_counts is not None:
                counts = as_class_counts(class_counts, owner=owner)
                if counts.size != w.size:
                    raise ConfigError(
                        f"loss '{owner}': parameter '{param}' has {w.size} weights but there are "
                        f"{counts.size} classes"
                    )
            return w
        if class_counts is None:
            raise ConfigError(
                f"loss '{owner}': {param}='{self.scheme}' needs class_counts "
                f"(one training count per class)"
            )
        n = as_class_counts(class_counts, owner=owner)
        c = n.size
        if self.scheme == "inverse":
            w = 1.0 / n
            return w * (c / w.sum())
        if self.scheme == "effective":
            if self.beta == 0.0:
                return np.ones(c)  # 1 - 0^n_c = 1 for every class: uniform weights
            # 1 - beta^n computed as -expm1(n log beta): exact even for beta close to 1.
            w = (1.0 - self.beta) / -np.expm1(n * np.log(self.beta))
            return w * (c / w.sum())
        if self.scheme == "balanced":
            return n.sum() / (c * n)
        raise AssertionError(f"unhandled scheme {self.scheme!r}")  # pragma: no cover


def _as_list(spec: Any) -> list[Any]:
    if isinstance(spec, Tensor):
        return spec.detach().cpu().tolist()
    if isinstance(spec, np.ndarray):
        return spec.tolist()
    return list(spec)


def class_weights(
    spec: WeightSpec,
    class_counts: Any = None,
    *,
    beta: float = 0.9999,
    owner: str = "loss",
    param: str = "weights",
) -> np.ndarray:
    """Float64 per-class weights for ``spec`` (a scheme name or a list); see the module doc."""
    return ClassWeighting.parse(spec, beta=beta, owner=owner, param=param).weights(
        class_counts, owner=owner, param=param
    )


def as_buffer(values: np.ndarray) -> Tensor:
    """A float64-computed per-class vector as a float32 buffer (cast to the logits' dtype on use)."""
    return torch.as_tensor(values, dtype=torch.float32)
