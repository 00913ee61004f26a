import numpy as np
import pytest
from scipy import stats as sps

from dflbench.stats import describe, summarize


def test_describe_matches_scipy_t_interval():
    values = [0.71, 0.74, 0.69, 0.80, 0.77]
    d = describe(values)
    assert d["mean"] == pytest.approx(np.mean(values))
    assert d["std"] == pytest.approx(np.std(values, ddof=1))
    lo, hi = sps.t.interval(0.95, 4, loc=np.mean(values), scale=sps.sem(values))
    assert d["ci95"] == pytest.approx([lo, hi])


def test_describe_one_and_zero_values_have_no_spread():
    assert describe([0.5]) == {"mean": 0.5, "std": None, "ci95": None, "note": "one seed: no spread"}
    assert describe([])["mean"] is None


def _run(treatment, seed, status="ok", f1=0.5):
    return {
        "dataset": "d", "treatment": treatment, "loss": treatment, "loss_params": {}, "seed": seed,
        "status": status, "train": {"learned": {"gamma": {"value": 1.0 + seed}}} if treatment == "l" else {},
        "metrics": {"macro_f1": f1} if status == "ok" else {},
        "per_class": [{"label": "a", "recall": f1, "f1": f1}] if status == "ok" else [],
    }


def test_summarize_skips_failed_runs_and_aggregates_learned_values():
    runs = [_run("ce", 0, f1=0.4), _run("ce", 1, f1=0.6), _run("ce", 2, status="diverged"),
            _run("l", 0), _run("l", 1)]
    rows = summarize(runs, ["ce", "l"], ["d"])
    ce, learn = rows
    assert (ce["n_seeds"], ce["n_runs"]) == (2, 3)
    assert ce["metrics"]["macro_f1"]["mean"] == pytest.approx(0.5)
    assert ce["per_class"][0]["recall"]["mean"] == pytest.approx(0.5)
    assert learn["learned"]["gamma"]["mean"] == pytest.approx(1.5)
    assert "learned" not in ce
