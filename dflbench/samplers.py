"""Resampling treatments from imbalanced-learn, the second axis beside the loss.

A suite entry such as ``{name: ce, sampler: smote}`` trains ``ce`` on a training set resampled by
SMOTE (Chawla et al., JAIR 2002). Resampling runs on the preprocessed fitting rows only (never on
the test or validation rows), after imbalance synthesis, once per seed (``random_state = seed``).
Each factory's keyword parameters are the keys a suite may set; ``random_state`` is dflbench's.
After adding one, ``python -m dflbench.catalog --write`` records it for ``dflbench list``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dflbench.errors import ConfigError, DataError
from dflbench.params import POSITIVE_INT, Rule
from dflbench.registry import Registry

SAMPLERS: Registry[Callable[..., Any]] = Registry("sampler")

#: Set by dflbench (the run's seed), never by a suite.
RESERVED = ("random_state",)


@SAMPLERS.register("random_over", rules={"shrinkage": Rule(float, ge=0, nullable=True)})
def random_over(*, sampling_strategy: Any = "auto", shrinkage: float | None = None,
                random_state: int | None = None) -> Any:
    """Random oversampling with replacement (imbalanced-learn RandomOverSampler)."""
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(sampling_strategy=sampling_strategy, shrinkage=shrinkage,
                             random_state=random_state)


@SAMPLERS.register("random_under", rules={"replacement": Rule(bool)})
def random_under(*, sampling_strategy: Any = "auto", replacement: bool = False,
                 random_state: int | None = None) -> Any:
    """Random undersampling of the larger classes (imbalanced-learn RandomUnderSampler)."""
    from imblearn.under_sampling import RandomUnderSampler

    return RandomUnderSampler(sampling_strategy=sampling_strategy, replacement=replacement,
                              random_state=random_state)


@SAMPLERS.register("smote", rules={"k_neighbors": POSITIVE_INT})
def smote(*, sampling_strategy: Any = "auto", k_neighbors: int = 5,
          random_state: int | None = None) -> Any:
    """SMOTE: synthetic minority samples by interpolation (Chawla et al., JAIR 2002)."""
    from imblearn.over_sampling import SMOTE

    return SMOTE(sampling_strategy=sampling_strategy, k_neighbors=k_neighbors,
                 random_state=random_state)


@SAMPLERS.register("borderline_smote", rules={
    "k_neighbors": POSITIVE_INT, "m_neighbors": POSITIVE_INT,
    "kind": Rule(str, choices=("borderline-1", "borderline-2"))})
def borderline_smote(*, sampling_strategy: Any = "auto", k_neighbors: int = 5,
                     m_neighbors: int = 10, kind: str = "borderline-1",
                     random_state: int | None = None) -> Any:
    """Borderline-SMOTE: SMOTE near the class border (Han et al., ICIC 2005)."""
    from imblearn.over_sampling import BorderlineSMOTE

    return BorderlineSMOTE(sampling_strategy=sampling_strategy, k_neighbors=k_neighbors,
                           m_neighbors=m_neighbors, kind=kind, random_state=random_state)


@SAMPLERS.register("adasyn", rules={"n_neighbors": POSITIVE_INT})
def adasyn(*, sampling_strategy: Any = "auto", n_neighbors: int = 5,
           random_state: int | None = None) -> Any:
    """ADASYN: adaptive synthetic sampling (He et al., IJCNN 2008)."""
    from imblearn.over_sampling import ADASYN

    return ADASYN(sampling_strategy=sampling_strategy, n_neighbors=n_neighbors,
                  random_state=random_state)


@SAMPLERS.register("smote_tomek", rules={"k_neighbors": POSITIVE_INT})
def smote_tomek(*, sampling_strategy: Any = "auto", k_neighbors: int = 5,
                random_state: int | None = None) -> Any:
    """SMOTE followed by Tomek-link cleaning (Batista et al., SIGKDD Explorations 2004)."""
    from imblearn.combine import SMOTETomek
    from imblearn.over_sampling import SMOTE

    return SMOTETomek(sampling_strategy=sampling_strategy, random_state=random_state,
                      smote=SMOTE(k_neighbors=k_neighbors, random_state=random_state))


@SAMPLERS.register("smote_enn", rules={"k_neighbors": POSITIVE_INT})
def smote_enn(*, sampling_strategy: Any = "auto", k_neighbors: int = 5,
              random_state: int | None = None) -> Any:
    """SMOTE followed by edited-nearest-neighbours cleaning (Batista et al., 2004)."""
    from imblearn.combine import SMOTEENN
    from imblearn.over_sampling import SMOTE

    return SMOTEENN(sampling_strategy=sampling_strategy, random_state=random_state,
                    smote=SMOTE(k_neighbors=k_neighbors, random_state=random_state))


#: The neighbour counts a sampler's nearest-neighbour searches need, by parameter: imbalanced-learn
#: fits ``k + 1`` neighbours (a sample and its ``k`` nearest), within each class it oversamples
#: ("class") or over the whole training set ("all"), so the rows searched must number more than k.
NEIGHBOURS = {
    "smote": {"k_neighbors": "class"},
    "borderline_smote": {"k_neighbors": "class", "m_neighbors": "all"},
    "adasyn": {"n_neighbors": "class"},
    "smote_tomek": {"k_neighbors": "class"},
    "smote_enn": {"k_neighbors": "class"},
}


def check_counts(name: str, params: dict[str, Any], counts: Sequence[int],
                 class_names: Sequence[str]) -> None:
    """Refuse, before training, sampler ``name`` with ``params`` on training rows with these
    class ``counts`` when it cannot resample them: a ``sampling_strategy`` imbalanced-learn
    rejects for these classes, or a neighbour count a class it oversamples cannot supply."""
    from imblearn.utils import check_sampling_strategy

    y = np.repeat(np.arange(len(counts)), counts)
    kind = "under-sampling" if name == "random_under" else "over-sampling"
    try:
        targets = check_sampling_strategy(params.get("sampling_strategy", "auto"), y, kind)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"sampler '{name}': sampling_strategy: {' '.join(str(exc).split())}") from None
    defaults = inspect.signature(SAMPLERS.get(name)).parameters
    for param, scope in NEIGHBOURS.get(name, {}).items():
        k = int(params.get(param, defaults[param].default))
        if scope == "all" and sum(counts) <= k:
            raise ConfigError(f"sampler '{name}': {param}={k} needs more than {k} training "
                              f"samples; there are {sum(counts)} (set {param} <= {sum(counts) - 1})")
        grown = [c for c, n in targets.items() if n > 0 and scope == "class" and counts[c] <= k]
        if grown:
            c = int(grown[0])
            fix = f"set {param} <= {counts[c] - 1}" if counts[c] > 1 else "use random_over"
            raise ConfigError(f"sampler '{name}': {param}={k} needs more than {k} training samples "
                              f"in each class it oversamples; class '{class_names[c]}' has "
                              f"{counts[c]} ({fix})")


def resample(name: str, params: dict[str, Any], X: np.ndarray, y: np.ndarray,
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Apply sampler ``name`` to (X, y); X may have any trailing shape (images are flattened).

    A sampler that cannot apply raises DataError with imbalanced-learn's reason and the class counts.
    """
    sampler = SAMPLERS.build(name, params, reserved={"random_state": seed})
    flat = X.reshape(len(X), -1)
    try:
        X_res, y_res = sampler.fit_resample(flat, y)
    except (ValueError, RuntimeError) as exc:
        counts = np.bincount(y).tolist()
        raise DataError(
            f"sampler '{name}' cannot apply (training class counts {counts}): {exc}"
        ) from None
    if len(np.unique(y_res)) < len(np.unique(y)):
        raise DataError(f"sampler '{name}' removed every sample of a class")
    return X_res.reshape(len(X_res), *X.shape[1:]).astype(X.dtype, copy=False), y_res.astype(np.int64)
