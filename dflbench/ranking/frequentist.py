"""Frequentist tests over datasets (Demšar, JMLR 2006; García & Herrera, JMLR 2008), on a
matrix of means with one row per dataset and one column per treatment. Every statistic comes from
scipy; only Holm's step-down rule, which scipy does not provide, is written out here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from dflbench.ranking.model import HypothesisTest


def rank_matrix(matrix: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Each dataset's ranks (1 = best; tied treatments share the average of their ranks)."""
    from scipy.stats import rankdata

    return rankdata(-matrix if higher_is_better else matrix, method="average", axis=1)


def friedman(matrix: np.ndarray) -> HypothesisTest:
    """Friedman's test that every treatment has the same mean rank
    (``scipy.stats.friedmanchisquare``, with its correction for ties)."""
    n, k = matrix.shape
    if k < 3:
        return HypothesisTest(None, None, f"needs at least 3 treatments (there are {k}); "
                                          "the Wilcoxon test compares two")
    if n < 2:
        return HypothesisTest(None, None, f"needs at least 2 datasets (there is {n})")
    from scipy.stats import friedmanchisquare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = friedmanchisquare(*matrix.T)
    stat, p = float(res.statistic), float(res.pvalue)
    if not (math.isfinite(stat) and math.isfinite(p)):
        return HypothesisTest(None, None, "every dataset ties all treatments: nothing to rank")
    return HypothesisTest(stat, p)


def iman_davenport(chi2: HypothesisTest, n: int, k: int) -> HypothesisTest:
    """Iman and Davenport's F from Friedman's χ² (Demšar 2006, §3.2.2): less conservative than
    χ²; F has (k − 1, (k − 1)(n − 1)) degrees of freedom."""
    if chi2.statistic is None:
        return HypothesisTest(None, None, chi2.note)
    denominator = n * (k - 1) - chi2.statistic
    if denominator <= 0:
        return HypothesisTest(None, 0.0, "every dataset ranks the treatments the same way: "
                                         "F is infinite")
    from scipy.stats import f

    stat = (n - 1) * chi2.statistic / denominator
    return HypothesisTest(stat, float(f.sf(stat, k - 1, (k - 1) * (n - 1))))


def wilcoxon(a: Sequence[float], b: Sequence[float]) -> tuple[float | None, str]:
    """(two-sided p, note) of the Wilcoxon signed-rank test of ``a`` against ``b`` paired by
    dataset: ``scipy.stats.wilcoxon`` with its defaults (zero differences dropped; an exact
    permutation test when differences tie or are zero on up to 13 datasets, see
    :func:`_permutation_p`)."""
    if len(a) == 0:
        return None, "no dataset to compare on"
    from scipy.stats import wilcoxon as scipy_wilcoxon

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    nonzero = d[d != 0]
    ties_or_zeros = len(nonzero) < len(d) or len(np.unique(np.abs(nonzero))) < len(nonzero)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all differences zero: p = 1, warned
        try:
            if ties_or_zeros and len(d) <= _PERMUTATION_UP_TO:
                p = _permutation_p(d)
            else:
                p = float(scipy_wilcoxon(a, b).pvalue)
        except ValueError as exc:  # scipy refuses a single zero difference
            return None, f"the test is undefined for these values ({exc})"
    return (p, "") if math.isfinite(p) else (None, "the test is undefined for these values")


#: scipy.stats.wilcoxon's "auto" method: with ties or zeros, an exact permutation test up to
#: this many pairs (2**13 sign patterns fit in its 9999 resamples), the normal approximation above.
_PERMUTATION_UP_TO = 13


def _permutation_p(d: np.ndarray) -> float:
    """The p-value scipy.stats.wilcoxon's default gives for differences with ties or zeros:
    ``scipy.stats.permutation_test`` over every sign pattern of the signed-rank sum T+ (zeros
    dropped). scipy evaluates T+ once per pattern in Python, seconds per pair at 13 datasets;
    here T+ is vectorised (|d| and so its ranks do not change when signs flip), which gives the
    same p (tests/unit/test_ranking.py compares the two)."""
    from scipy.stats import permutation_test, rankdata

    nonzero = d != 0
    ranks = np.zeros_like(d)
    ranks[nonzero] = rankdata(np.abs(d[nonzero]))

    def t_plus(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.sum(np.where(x > 0, ranks, 0.0), axis=axis)

    res = permutation_test((d,), t_plus, permutation_type="samples", vectorized=True,
                           alternative="two-sided", axis=-1)
    return float(res.pvalue)


def smallest_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p the Wilcoxon test can give on ``n`` datasets (every difference
    of one sign), as scipy computes it."""
    from scipy.stats import wilcoxon as scipy_wilcoxon

    return float(scipy_wilcoxon(np.arange(1.0, n + 1.0)).pvalue)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (Holm, Scand. J. Statist. 1979; García & Herrera 2008): the
    i-th smallest of m p-values becomes max over j ≤ i of min(1, (m − j + 1) · p_(j)). None (no
    test) stays None and does not count in m."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for j, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - j) * p))
        out[i] = running
    return out


def critical_difference(k: int, n: int, alpha: float) -> float:
    """Nemenyi's critical difference of average ranks (Demšar 2006, eq. 5):
    q_α · sqrt(k(k + 1) / 6n), with q_α the studentized range quantile over √2."""
    from scipy.stats import studentized_range

    q = float(studentized_range.ppf(1.0 - alpha, k, math.inf)) / math.sqrt(2.0)
    return q * math.sqrt(k * (k + 1) / (6.0 * n))


def cd_groups(average_ranks: dict[str, float], cd: float) -> list[list[str]]:
    """The maximal groups of treatments whose average ranks differ by less than ``cd`` (the
    bars of Demšar's critical-difference diagram), best-ranked first; groups of one are omitted."""
    order = sorted(average_ranks, key=lambda t: average_ranks[t])
    groups: list[list[str]] = []
    last_end = -1
    for i, t in enumerate(order):
        end = i
        while end + 1 < len(order) and average_ranks[order[end + 1]] - average_ranks[t] < cd:
            end += 1
        if end > i and end > last_end:  # not inside the previous (wider) group
            groups.append(order[i:end + 1])
        last_end = max(last_end, end)
    return groups
