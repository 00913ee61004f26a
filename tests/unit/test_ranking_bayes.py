"""The Bayesian signed-rank test (dflbench.ranking.bayes) against baycomp, the reference
implementation of Benavoli et al. (JMLR 2017)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dflbench.ranking.bayes import signed_rank

baycomp = pytest.importorskip("baycomp")

CASES = [(n, rope, shift) for n in (3, 8, 25) for rope in (0.0, 0.01, 0.05)
         for shift in (0.0, 0.01, 0.03)]


def _scores(n: int, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + n)
    a = rng.uniform(0.5, 0.9, n)
    return a, a - shift + rng.normal(0, 0.02, n)


@pytest.mark.parametrize(("n", "rope", "shift"), CASES)
def test_same_seed_gives_baycomps_probabilities(n: int, rope: float, shift: float):
    a, b = _scores(n, shift)
    ours = signed_rank(a, b, rope, nsamples=20_000, seed=11)
    ref = baycomp.SignedRankTest.probs(a, b, rope=rope, nsamples=20_000, random_state=11)
    if rope > 0:
        assert (ours.p_a, ours.p_equivalent, ours.p_b) == pytest.approx(ref, abs=2e-4)
    else:  # baycomp returns (left, right) without a ROPE
        assert (ours.p_a, ours.p_b) == pytest.approx(ref, abs=2e-4) and ours.p_equivalent == 0


@pytest.mark.parametrize(("n", "rope", "shift"), [(8, 0.01, 0.01), (25, 0.01, 0.0), (8, 0.0, 0.03)])
def test_another_seed_agrees_within_sampling_error(n: int, rope: float, shift: float):
    a, b = _scores(n, shift, seed=5)
    ours = signed_rank(a, b, rope, nsamples=50_000, seed=0)
    ref = baycomp.SignedRankTest.probs(a, b, rope=rope, nsamples=50_000, random_state=1234)
    ref = ref if rope > 0 else (ref[0], 0.0, ref[1])
    for p, q in zip((ours.p_a, ours.p_equivalent, ours.p_b), ref):
        # Two independent Monte Carlo estimates of one probability: 4 standard errors apart at most.
        assert abs(p - q) <= 4 * math.sqrt(2 * max(q * (1 - q), 1e-4) / 50_000) + 1e-9


def test_a_is_better_when_its_scores_are_higher_and_identical_scores_are_equivalent():
    a = np.linspace(0.6, 0.9, 10)
    clear = signed_rank(a, a - 0.05, 0.01)
    assert clear.p_a > 0.99 and clear.p_b == 0
    mirrored = signed_rank(a - 0.05, a, 0.01)
    assert (mirrored.p_a, mirrored.p_equivalent, mirrored.p_b) == (clear.p_b, clear.p_equivalent, clear.p_a)
    same = signed_rank(a, a.copy(), 0.01)
    assert same.p_equivalent == 1.0


def test_reproducible():
    a, b = _scores(8, 0.01)
    assert signed_rank(a, b, 0.01) == signed_rank(a, b, 0.01)
