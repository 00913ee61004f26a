"""The Bayesian signed-rank test over datasets (Benavoli, Mangili, Corani, Zaffalon, Ruggeri,
ICML 2014; Benavoli, Corani, Demšar, Zaffalon, JMLR 2017), with a region of practical
equivalence (ROPE); docs/statistics.md says when to trust it.

This is ``baycomp.SignedRankTest`` (baycomp 1.0) computed without its per-sample Python loop:
the same Dirichlet-process posterior (prior strength 0.5 on a pseudo-observation at 0), the same
samples drawn from ``numpy.random.RandomState(seed).dirichlet`` and the same decision per sample,
so with the same seed it gives baycomp's probabilities (tests/unit/test_ranking_bayes.py checks
it against baycomp). The weights depend only on the number of datasets, so they are drawn once
and shared by every pair, which makes a report with many pairs and datasets fast.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import numpy as np

from dflbench.ranking.model import BayesProbs

#: baycomp's defaults: posterior samples and prior strength; a fixed seed makes reports reproducible.
NSAMPLES, PRIOR, SEED = 50_000, 0.5, 0
#: Posterior samples processed at once (bounds memory on suites with many datasets).
_CHUNK = 10_000


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the tests' small matrix products on one BLAS thread, restoring the setting after:
    OpenBLAS splits even a 10,000 × 9 product across threads that spin-wait for each other,
    which made a test ten times slower on a busy two-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@functools.lru_cache(maxsize=4)
def _weights(n: int, nsamples: int, seed: int, prior: float) -> np.ndarray:
    """Dirichlet weights of the prior pseudo-observation and the ``n`` differences, one row per
    posterior sample, drawn exactly as baycomp draws them."""
    alpha = np.ones(n + 1)
    alpha[0] = prior
    weights = np.random.RandomState(seed).dirichlet(alpha, nsamples)
    weights.flags.writeable = False
    return weights


def _heaviside(a: np.ndarray, threshold: float) -> np.ndarray:
    """1 above ``threshold``, ½ at it, 0 below (baycomp's rule for ties)."""
    return (a > threshold).astype(float) + 0.5 * (a == threshold).astype(float)


def signed_rank(a: np.ndarray, b: np.ndarray, rope: float, *, nsamples: int = NSAMPLES,
                seed: int = SEED, prior: float = PRIOR) -> BayesProbs:
    """P(``a`` better by more than ``rope``), P(within ``rope``), P(``b`` better by more than
    ``rope``) from per-dataset scores where higher is better (negate a lower-is-better metric).

    Each posterior sample weighs the pairwise sums of differences (Walsh averages × 2); the
    sample votes for whichever of the three regions holds the most weight. With ``rope`` 0 there
    is no equivalence region and ``p_equivalent`` is 0.
    """
    diff = np.concatenate(([0.0], np.asarray(b, float) - np.asarray(a, float)))
    sums = diff[:, None] + diff[None, :]
    above = _heaviside(sums, 2 * rope)
    below = _heaviside(-sums, 2 * rope) if rope > 0 else None
    weights = _weights(len(diff) - 1, nsamples, seed, prior)
    votes = np.zeros(3, dtype=np.int64)
    for start in range(0, nsamples, _CHUNK):
        w = weights[start:start + _CHUNK]
        samples = np.zeros((len(w), 3))
        samples[:, 2] = ((w @ above) * w).sum(axis=1)
        if below is None:
            samples[:, 0] = -samples[:, 2] + 1  # baycomp's expressions, in its order
        else:
            samples[:, 0] = ((w @ below) * w).sum(axis=1)
            samples[:, 1] = -samples[:, 0] - samples[:, 2] + 1
        votes += np.bincount(samples.argmax(axis=1), minlength=3)
    p_a, p_eq, p_b = (float(v) / nsamples for v in votes)
    return BayesProbs(rope, p_a, p_eq, p_b)
