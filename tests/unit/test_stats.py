import numpy as np
import pytest
from scipy import stats as sps

from dflbench.results import ClassMetrics, Learned, RunRecord, RunStatus, Stat, TrainInfo, Treatment
from dflbench.stats import describe, summarize


def test_describe_matches_scipy_t_interval():
    values = [0.71, 0.74, 0.69, 0.80, 0.77]
    d = describe(values)
    assert d.mean == pytest.approx(np.mean(values))
    assert d.std == pytest.approx(np.std(values, ddof=1))
    lo, hi = sps.t.interval(0.95, 4, loc=np.mean(values), scale=sps.sem(values))
    assert d.ci95 == pytest.approx((lo, hi))


def test_describe_one_and_zero_values_have_no_spread():
    assert describe([0.5]) == Stat(0.5, None, None, "one run: no spread")
    assert describe([]) == Stat(None, None, None, "no successful runs")


def _run(treatment, seed, status="ok", f1=0.5):
    ok = status == "ok"
    learned = {"gamma": Learned(1.0 + seed)} if treatment == "l" else {}
    return RunRecord(
        "d", Treatment(treatment, treatment, treatment), seed, RunStatus(status),
        metrics={"macro_f1": f1} if ok else {}, train=TrainInfo(learned=learned),
        per_class=(ClassMetrics("a", 3, f1, f1, f1),) if ok else ())


def test_summarize_skips_failed_runs_and_aggregates_learned_values():
    runs = [_run("ce", 0, f1=0.4), _run("ce", 1, f1=0.6), _run("ce", 2, status="diverged"),
            _run("l", 0), _run("l", 1)]
    rows = summarize(runs, ["ce", "l"], ["d"])
    ce, learn = rows
    assert (ce.n_ok, ce.n_runs) == (2, 3)
    assert ce.metrics["macro_f1"].mean == pytest.approx(0.5)
    assert ce.per_class[0].recall.mean == pytest.approx(0.5)
    assert learn.learned["gamma"].mean == pytest.approx(1.5)
    assert ce.learned == {} and "learned" not in ce.to_dict()
