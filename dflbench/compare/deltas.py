"""One metric of one aligned pair: the delta, its significance and the gate's decision."""

from __future__ import annotations

import math
import warnings

from dflbench.compare.model import TOL, Allowance, MetricDelta, Stat
from dflbench.metrics import METRICS
from dflbench.stats import describe

#: A run's place in the protocol: (repeat, fold, seed). Runs at the same key are paired.
RunKey = tuple[int, int, int]


def stat(values: dict[RunKey, float]) -> Stat:
    keys = sorted(values)
    d = describe([values[k] for k in keys])
    return Stat(d.mean, d.std, len(keys), tuple(sorted({k[-1] for k in keys})))


def metric_delta(metric: str, b_vals: dict[RunKey, float], c_vals: dict[RunKey, float],
                 gated: bool, max_drop: Allowance | None, alpha: float, n_cand_runs: int,
                 n_cand_ok: int) -> MetricDelta:
    higher = METRICS[metric].higher_is_better
    base, cand = stat(b_vals), stat(c_vals)
    delta = gain = None
    if base.mean is not None and cand.mean is not None:
        delta = cand.mean - base.mean
        gain = delta if higher else -delta
    if gain is None:
        direction = "n/a"
    elif abs(gain) <= TOL:
        direction = "same"
    else:
        direction = "better" if gain > 0 else "worse"
    out = MetricDelta(metric, base, cand, delta, gain, direction)
    out.test, out.p_value, out.p_note = significance(b_vals, c_vals)
    if out.p_value is not None:
        out.beyond_noise = out.p_value < alpha
    if gated and max_drop is not None:
        _gate(out, max_drop, n_cand_runs, n_cand_ok)
    return out


def _gate(out: MetricDelta, max_drop: Allowance, n_cand_runs: int, n_cand_ok: int) -> None:
    """Decide the regression: a drop beyond the allowance, or no candidate value at all."""
    if out.baseline.mean is None:
        out.regression = False
        out.reason = "the baseline has no successful run: nothing to gate against"
        return
    out.allowance = max_drop.amount(out.baseline.mean)
    if out.candidate.mean is None:
        out.regression = True
        out.reason = (f"no value in the candidate ({n_cand_ok} of {n_cand_runs} run(s) ok)"
                      if n_cand_ok else
                      f"no successful run in the candidate ({n_cand_runs} run(s) failed or diverged)")
        return
    drop = -out.gain  # type: ignore[operator]
    out.regression = drop > out.allowance + TOL
    if out.regression:
        out.reason = f"dropped {drop:.4f}, more than the allowed {out.allowance:.4f}"


def significance(b: dict[RunKey, float], c: dict[RunKey, float]
                 ) -> tuple[str | None, float | None, str]:
    """(test name, two-sided p-value, note) for the per-run values of both sides: a paired t-test
    when both hold the same runs, else Welch's t-test (both from scipy.stats)."""
    if len(b) < 2 or len(c) < 2:
        return None, None, "fewer than two seeds on a side: no test"
    from scipy import stats

    if set(b) == set(c):
        keys = sorted(b)
        diffs = [c[k] - b[k] for k in keys]
        if max(diffs) - min(diffs) <= TOL:
            if abs(diffs[0]) <= TOL:
                return "paired t-test", 1.0, "identical per-seed values"
            return "paired t-test", None, "every seed moved by the same amount: the test is undefined"
        name, run = "paired t-test", lambda: stats.ttest_rel([c[k] for k in keys],
                                                              [b[k] for k in keys])
    else:
        bv, cv = list(b.values()), list(c.values())
        if max(bv) - min(bv) <= TOL and max(cv) - min(cv) <= TOL:
            if abs(bv[0] - cv[0]) <= TOL:
                return "Welch t-test", 1.0, "identical values"
            return "Welch t-test", None, "no spread on either side: the test is undefined"
        name, run = "Welch t-test", lambda: stats.ttest_ind(cv, bv, equal_var=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(run().pvalue)
    if not math.isfinite(p):
        return name, None, "the test is undefined for these values"
    return name, p, ""
