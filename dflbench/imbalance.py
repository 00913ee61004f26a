"""Imbalance synthesis on the training split only, through imbalanced-learn's ``make_imbalance``.

A suite entry's ``imbalance`` mapping picks one of three ways to set per-class training counts:

``{profile: exponential, ratio: R}``
    Long-tailed profile (Cui et al. 2019, "Class-Balanced Loss Based on Effective Number of
    Samples"; Cao et al. 2019, LDAM): class ``i`` in label order keeps
    ``n_i = floor(n_max * R ** (-i / (C - 1)))`` rows, ``n_max`` being the largest available
    class count, so class 0 keeps ``n_max`` and the last class ``n_max / R``.
``{profile: step, ratio: R, mu: 0.5}``
    Step profile (Buda et al. 2018, "A systematic study of the class imbalance problem in
    convolutional neural networks"): the last ``ceil(mu * C)`` classes in label order keep
    ``floor(n_max / R)`` rows, the others keep all of theirs.
``{counts: {label: n}}``
    Explicit counts; ``label`` is a class name or an integer class index (a class name wins when
    both could match, e.g. for classes named "1", "2", "3"); classes not listed keep all rows.

For both profiles every target is raised to at least ``min_count`` (default 2, so the class can
still be split for validation) and capped at what the class has: a profile never invents rows.
Explicit counts above what a class has are a DataError naming the class, the count asked and the
count available.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import POSITIVE_INT, Rule, short

if TYPE_CHECKING:
    import pandas as pd

PROFILES = ("exponential", "step")
KEYS = ("profile", "ratio", "mu", "min_count", "counts")
_PROFILE_KEYS = {
    "exponential": {"profile", "ratio", "min_count"},
    "step": {"profile", "ratio", "mu", "min_count"},
    "counts": {"profile", "counts"},
}
DEFAULT_MU = 0.5
DEFAULT_MIN_COUNT = 2
_EPS = 1e-9  # floor(100 * 10 ** -1) must be 10, not 9


@dataclass(frozen=True)
class ImbalanceSpec:
    """A validated imbalance specification for a dataset with ``class_names``.

    ``profile`` is "exponential", "step" or "counts"; ``counts`` holds (class index, n) pairs for
    the explicit form.
    """

    profile: str
    class_names: tuple[str, ...]
    ratio: float | None = None
    mu: float | None = None
    min_count: int = DEFAULT_MIN_COUNT
    counts: tuple[tuple[int, int], ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def as_dict(self) -> dict[str, Any]:
        """The spec in suite-file form, with explicit defaults and class names as keys."""
        if self.profile == "counts":
            return {"counts": {self.class_names[c]: n for c, n in self.counts}}
        out: dict[str, Any] = {
            "profile": self.profile,
            "ratio": self.ratio,
            "min_count": self.min_count,
        }
        if self.profile == "step":
            out["mu"] = self.mu
        return out

    def targets(self, available: Sequence[int] | np.ndarray) -> np.ndarray:
        """Target training count per class, given the ``available`` count per class."""
        avail = np.asarray(available, dtype=np.int64)
        if avail.shape != (self.n_classes,):
            raise ValueError(
                f"expected {self.n_classes} class counts, got {avail.shape[0] if avail.ndim else 0}"
            )
        if self.profile == "counts":
            out = avail.copy()
            for c, n in self.counts:
                if n > avail[c]:
                    raise DataError(
                        f"imbalance counts: class '{self.class_names[c]}' asks for {n} training "
                        f"samples but only {avail[c]} are available"
                    )
                out[c] = n
            return out
        if self.n_classes < 2:
            raise DataError(f"imbalance profile {self.profile} needs at least 2 classes")
        assert self.ratio is not None
        n_max = int(avail.max())
        if self.profile == "exponential":
            c_last = self.n_classes - 1
            wanted = np.array(
                [
                    math.floor(n_max * self.ratio ** (-i / c_last) + _EPS)
                    for i in range(self.n_classes)
                ],
                dtype=np.int64,
            )
        else:  # step
            assert self.mu is not None
            n_minority = math.ceil(self.mu * self.n_classes - _EPS)
            wanted = avail.copy()
            wanted[self.n_classes - n_minority :] = math.floor(n_max / self.ratio + _EPS)
        return np.minimum(np.maximum(wanted, self.min_count), avail)


#: The rules of an imbalance specification's values (its keys and profiles are checked by name).
RULES = {"ratio": Rule(float, ge=1), "mu": Rule(float, gt=0, le=1), "min_count": POSITIVE_INT,
         "count": POSITIVE_INT}


def _value(key: str, value: Any, name: str | None = None) -> Any:
    """``value`` checked against the rule of ``key`` (numpy scalars read as Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    return RULES[key].check(value, name or f"imbalance {key}")


def _class_index(label: Any, class_names: Sequence[str]) -> int:
    """Resolve a counts key: a class name first, else an integer index (int or digit string)."""
    names = [str(n) for n in class_names]
    if isinstance(label, bool):
        raise ConfigError(unknown("class", str(label), names))
    if str(label) in names:
        return names.index(str(label))
    is_index = isinstance(label, (int, np.integer)) or (
        isinstance(label, str) and label.strip().isdigit()
    )
    if is_index and 0 <= int(label) < len(names):
        return int(label)
    raise ConfigError(unknown("class", str(label), names) + f"; or an index 0..{len(names) - 1}")


def _chosen_profile(spec: Mapping[str, Any]) -> str:
    """The profile ``spec`` asks for ("counts" for explicit counts), once every key fits it."""
    for key in spec:
        if key not in KEYS:
            raise ConfigError(unknown("imbalance key", str(key), KEYS))
    if "counts" in spec:
        profile = spec.get("profile", "counts")
        if profile != "counts":
            raise ConfigError(
                f"imbalance: counts replaces a profile; drop profile '{profile}' or counts"
            )
    elif "profile" in spec:
        profile = spec["profile"]
        if profile not in PROFILES:
            raise ConfigError(unknown("imbalance profile", str(profile), PROFILES))
    else:
        raise ConfigError(
            "imbalance needs a profile (exponential, step) with a ratio, or counts per class"
        )
    for key in spec:
        if key not in _PROFILE_KEYS[profile]:
            where = "a profile" if profile == "counts" else f"profile {profile}"
            users = sorted(p for p, keys in _PROFILE_KEYS.items() if key in keys)
            raise ConfigError(
                f"imbalance key '{key}' does not apply to {where} (only to: {', '.join(users)})"
            )
    return profile


def _counts_spec(raw: Any, class_names: tuple[str, ...]) -> ImbalanceSpec:
    """The explicit form: ``raw`` maps class names or indices to training counts."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"imbalance counts must map class to a count, got {short(raw)}")
    resolved: dict[int, int] = {}
    keys: dict[int, Any] = {}
    for label, n in raw.items():
        c = _class_index(label, class_names)
        if c in resolved:
            raise ConfigError(
                f"imbalance counts give class '{class_names[c]}' twice "
                f"(as {keys[c]!r} and {label!r})"
            )
        keys[c] = label
        resolved[c] = _value("count", n, f"imbalance count for class '{class_names[c]}'")
    return ImbalanceSpec(
        profile="counts", class_names=class_names, counts=tuple(sorted(resolved.items()))
    )


def _profile_spec(
    spec: Mapping[str, Any], profile: str, class_names: tuple[str, ...]
) -> ImbalanceSpec:
    """An exponential or step profile: its ratio, min_count and (for step) mu, checked."""
    if "ratio" not in spec:
        raise ConfigError(f"imbalance profile {profile} needs a ratio (largest / smallest class)")
    ratio = _value("ratio", spec["ratio"])
    min_count = _value("min_count", spec.get("min_count", DEFAULT_MIN_COUNT))
    mu = _value("mu", spec.get("mu", DEFAULT_MU)) if profile == "step" else None
    return ImbalanceSpec(
        profile=profile, class_names=class_names, ratio=ratio, mu=mu, min_count=min_count
    )


def parse_imbalance(spec: Mapping[str, Any], class_names: Sequence[str]) -> ImbalanceSpec:
    """Validate an ``imbalance`` mapping for a dataset with ``class_names``.

    Unknown keys and profiles raise ConfigError with a did-you-mean; so do a key that does not
    belong to the chosen profile, ``ratio`` below 1, ``mu`` outside (0, 1], ``min_count`` below
    1, and count keys that name no class.
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"imbalance must be a mapping such as {{profile: exponential, ratio: 10}}, got {short(spec)}"
        )
    names = tuple(str(n) for n in class_names)
    profile = _chosen_profile(spec)
    if profile == "counts":
        return _counts_spec(spec["counts"], names)
    return _profile_spec(spec, profile, names)


def check_imbalance(spec: Any) -> None:
    """Check what can be checked of an ``imbalance`` mapping before the dataset's classes are
    known (keys, profile, ratio, mu, min_count, count values), so a suite's typo is reported
    while the suite is read; :func:`parse_imbalance` checks the class labels of ``counts``."""
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"imbalance must be a mapping such as {{profile: exponential, ratio: 10}}, got {short(spec)}"
        )
    profile = _chosen_profile(spec)
    if profile != "counts":
        _profile_spec(spec, profile, ())
        return
    raw = spec["counts"]
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"imbalance counts must map class to a count, got {short(raw)}")
    for label, n in raw.items():
        _value("count", n, f"imbalance count for class {short(label)}")


def apply_imbalance(
    X: pd.DataFrame | np.ndarray, y: np.ndarray, spec: ImbalanceSpec, seed: int
) -> tuple[pd.DataFrame | np.ndarray, np.ndarray]:
    """Subsample the training rows ``(X, y)`` to ``spec``'s per-class targets.

    Call it on the training split only; the test split keeps the natural distribution. The rows
    kept are chosen by imbalanced-learn's ``make_imbalance`` (random under-sampling, seeded) on
    an index array, so X may be a DataFrame or an array of any shape (images (N, C, H, W)
    included); kept rows stay in their original order, and the same seed keeps the same rows.
    """
    from imblearn.datasets import make_imbalance

    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(X) != y_arr.shape[0]:
        raise ValueError(f"X has {len(X)} rows but y has shape {y_arr.shape}")
    if y_arr.size and (y_arr.min() < 0 or y_arr.max() >= spec.n_classes):
        raise ValueError(f"labels must lie in 0..{spec.n_classes - 1}")
    available = np.bincount(y_arr, minlength=spec.n_classes)
    targets = spec.targets(available)
    strategy = {c: int(targets[c]) for c in range(spec.n_classes) if available[c] > 0}
    if all(strategy[c] == available[c] for c in strategy):
        keep = np.arange(y_arr.size)
    else:
        index = np.arange(y_arr.size).reshape(-1, 1)
        kept, _ = make_imbalance(index, y_arr, sampling_strategy=strategy, random_state=seed)
        keep = np.sort(np.asarray(kept).ravel())
    if hasattr(X, "iloc"):  # a DataFrame (pandas is not imported to validate suites)
        X_out: pd.DataFrame | np.ndarray = X.iloc[keep].reset_index(drop=True)
    else:
        X_out = np.asarray(X)[keep]
    return X_out, y_arr[keep]


#: How far, relatively, a profile's training ratio may miss the ratio asked before a warning says so
#: (rounding and ``min_count`` move it a little; a class capped at what it has moves it a lot).
RATIO_TOLERANCE = 0.25


def shortfall(spec: ImbalanceSpec, before: Sequence[int], after: Sequence[int]) -> str | None:
    """Why the training counts a profile gave (``after``, from ``before``) miss the ratio it was
    asked for by more than :data:`RATIO_TOLERANCE`, with a ``counts`` form that would give it on a
    binary dataset; None when they do not. Profiles shrink classes in label order from the largest
    class's count but never beyond what a class has, so on a dataset whose first class is small
    the ratio falls short, and on a binary one the majority can become the minority."""
    if spec.profile == "counts" or spec.ratio is None:
        return None
    got = imbalance_ratio(after)
    if abs(got / spec.ratio - 1) <= RATIO_TOLERANCE:
        return None
    names = spec.class_names
    shown = ", ".join(f"{n} {c}" for n, c in zip(names, after))
    text = (f"imbalance {spec.profile} ratio {spec.ratio:g} gives a training ratio of {got:.1f} "
            f"({shown})")
    big, small = int(np.argmax(before)), int(np.argmin(before))
    if len(names) == 2 and big != small and after[big] < after[small]:
        fixed = max(spec.min_count, math.floor(before[big] / spec.ratio + _EPS))
        text += (f": '{names[big]}', the majority, became the minority; for ratio {spec.ratio:g} "
                 f"give imbalance: {{counts: {{{names[small]}: {min(fixed, before[small])}}}}}")
    else:
        text += ("; a class keeps at most the rows it has and at least min_count: give counts per "
                 "class to set them exactly")
    return text


def imbalance_ratio(counts: Mapping[Any, int] | Sequence[int] | np.ndarray) -> float:
    """Largest over smallest class count (``inf`` when a class has no samples)."""
    values = np.asarray(
        list(counts.values()) if isinstance(counts, Mapping) else counts, dtype=np.float64
    )
    if values.size == 0:
        raise ValueError("imbalance_ratio needs at least one class count")
    smallest = values.min()
    return float("inf") if smallest == 0 else float(values.max() / smallest)
