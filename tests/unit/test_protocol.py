"""Repeated cross-validation and equal-budget tuning: the folds partition the samples, nothing
fitted on data sees a test fold, a tuned run's choice is its best validation score and its refit
trains on the whole training fold, and the models trained are the models announced."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dflbench.engine as engine
import dflbench.prepare as prepare
from dflbench.config import parse_suite
from dflbench.datasets.split import cv_splits
from dflbench.errors import ConfigError
from dflbench.prepare import prepare_task
from dflbench.task import models_per_task, run_task

# The exponential profile on these folds keeps a little more than the ratio asked (a warning).
pytestmark = pytest.mark.filterwarnings("ignore::dflbench.errors.DflbenchWarning")

DATASET = {"name": "syn", "source": "synthetic", "n_samples": 240, "n_features": 5,
           "n_informative": 3, "n_redundant": 0, "n_classes": 3, "weights": [0.6, 0.3, 0.1],
           "random_state": 2, "imbalance": {"profile": "exponential", "ratio": 4}}


def _suite(**extra: Any):
    doc = {"name": "cv", "seeds": 2, "datasets": [DATASET],
           "protocol": {"kind": "cv", "folds": 3, "repeats": 2},
           "train": {"epochs": 2, "batch_size": 32, "early_stopping": {"validation": 0.2}},
           "losses": ["ce", {"name": "focal", "tune": {"gamma": [0.5, 2.0, 5.0]}},
                      {"name": "ce", "label": "ce+over", "sampler": "random_over"}],
           "tuning": {"validation": 0.3, "metric": "macro_f1"}, **extra}
    return parse_suite(doc, source="cv.yaml")


def test_each_repeat_s_test_folds_partition_the_samples():
    y = np.repeat([0, 1, 2], [50, 30, 10])
    pairs = cv_splits(y, 5, 3, seed=0)
    assert len(pairs) == 15
    for r in range(3):
        tests = np.concatenate([te for _, te in pairs[5 * r:5 * r + 5]])
        assert sorted(tests.tolist()) == list(range(90))  # every sample tested once per repeat
        for tr, te in pairs[5 * r:5 * r + 5]:
            assert not set(tr) & set(te) and len(tr) + len(te) == 90
    assert not np.array_equal(pairs[0][1], pairs[5][1])  # repeats reshuffle


def test_a_class_too_small_for_the_folds_is_refused_with_the_largest_workable_folds():
    y = np.repeat([0, 1], [40, 3])
    with pytest.raises(ConfigError, match="class 'b' has 3 samples, fewer than the 5 folds asked; "
                                          "use folds: 3 or fewer"):
        cv_splits(y, 5, 1, seed=0, class_names=["a", "b"])


def _rows(X: Any) -> set[bytes]:
    return {np.ascontiguousarray(r).tobytes() for r in np.asarray(X, dtype=np.float64)}


def test_nothing_fitted_on_data_sees_a_test_fold(monkeypatch):
    """Spies on what is fitted on data (imbalance synthesis, preprocessing) and checks what is
    carved (early-stopping and tuning validation rows): no row of a split's test fold may reach
    any of them. Rows are compared exactly (continuous features: every row is unique)."""
    import dflbench.imbalance as imbalance
    import dflbench.preprocess as preprocess

    fitted: list[tuple[str, set[bytes], Any]] = []
    real_pre, real_imbalance = preprocess.preprocessor_for, imbalance.apply_imbalance

    class SpyPre:
        def __init__(self, kind: str) -> None:
            self.inner = real_pre(kind)

        def fit(self, X):
            fitted.append(("preprocessing", _rows(X), self))
            self.inner.fit(X)
            return self

        def transform(self, X):
            return self.inner.transform(X)

    def spy_imbalance(X, y, spec, seed):
        fitted.append(("imbalance synthesis", _rows(X), None))
        return real_imbalance(X, y, spec, seed)

    monkeypatch.setattr(preprocess, "preprocessor_for", SpyPre)
    monkeypatch.setattr(imbalance, "apply_imbalance", spy_imbalance)
    suite = _suite()
    from dflbench.datasets import SOURCES

    params = {k: v for k, v in DATASET.items() if k not in ("name", "source", "imbalance")}
    ds = SOURCES.get("synthetic")("syn", **params)
    test_sets = [ds.X.iloc[te] for _, _, _, te in prepare.splits(ds, suite)]
    task = prepare_task(suite.datasets[0], suite)
    assert len(task.folds) == 6 and len(fitted) == 6 * 3  # per split: imbalance, fold, carve
    for i, (fold, test) in enumerate(zip(task.folds, test_sets)):
        imb, pre, tune_pre = fitted[3 * i:3 * i + 3]
        assert [imb[0], pre[0], tune_pre[0]] == ["imbalance synthesis", "preprocessing", "preprocessing"]
        for what, rows, _ in (imb, pre, tune_pre):
            assert not rows & _rows(test), f"split {i}: a test row reached {what}"
        # The carves hold training rows only: compared in each one's own preprocessing.
        assert not _rows(pre[2].transform(test)) & _rows(fold.data.X_val)
        tune_rows = _rows(fold.tune.data.X_train) | _rows(fold.tune.data.X_val) | _rows(fold.tune.data.X_test)
        assert not _rows(tune_pre[2].transform(test)) & tune_rows
        np.testing.assert_array_equal(fold.data.X_test, pre[2].transform(test))


def test_the_tuned_choice_is_the_best_validation_score_and_the_refit_uses_the_whole_fold(monkeypatch):
    calls: list[tuple[int, int]] = []
    real = engine.train_models

    def spy(data, treatments, seeds, *args, **kwargs):
        calls.append((len(data.X_train), len(treatments) * len(seeds)))
        return real(data, treatments, seeds, *args, **kwargs)

    monkeypatch.setattr(engine, "train_models", spy)
    suite = _suite()
    task = prepare_task(suite.datasets[0], suite)
    out = run_task(task, suite, engine.resolve_device("cpu"))
    # The models trained are the models announced (what --dry-run prints).
    assert sum(n for _, n in calls) == models_per_task(suite) == 6 * 2 * (3 + 3)
    tuned = [r for r in out.runs if r.label == "focal"]
    assert len(tuned) == 12 and all(r.tuning is not None for r in tuned)
    for run in tuned:
        rec = run.tuning
        ranked = [-np.inf if s is None else s for s in rec.scores]
        assert rec.chosen == rec.grid[int(np.argmax(ranked))]
        assert run.treatment.loss_params["gamma"] == rec.chosen["gamma"]
    for fold in task.folds:
        # Tuning trained on the carve's fit rows, the refit on the whole fold's fit rows.
        assert (len(fold.tune.data.X_train), 3 * 2) in calls
        assert (len(fold.data.X_train), 2 * 2) in calls  # ce and focal (refit) share a stack
        assert len(fold.tune.data.X_train) < len(fold.data.X_train)
    assert {(r.repeat, r.fold) for r in out.runs} == {(r, f) for r in range(2) for f in range(3)}


def test_grids_are_checked_before_training():
    with pytest.raises(ConfigError, match=r"losses\[1\].tune.gamma: loss 'focal': parameter 'gamma': "
                                          r"-1 is invalid \(expected a number >= 0\)"):
        _suite(losses=["ce", {"name": "focal", "tune": {"gamma": [1, -1]}}])
    with pytest.raises(ConfigError, match="loss 'focal' has no parameter 'gama'"):
        _suite(losses=[{"name": "focal", "tune": {"gama": [1]}}])
    with pytest.raises(ConfigError, match="tune.sampler.k_neighbors: this treatment has no sampler"):
        _suite(losses=[{"name": "ce", "tune": {"sampler.k_neighbors": [3]}}])
    with pytest.raises(ConfigError, match=r"tune.gamma: \[\] is invalid"):
        _suite(losses=[{"name": "focal", "tune": {"gamma": []}}])


def test_a_budget_samples_the_same_configurations_every_time():
    from dflbench.tuning import configurations

    suite = _suite(losses=[{"name": "focal", "tune": {"gamma": [0.5, 1, 2, 3, 5], "alpha": [None, "inverse"]}}],
                   tuning={"budget": 4})
    grids = [configurations(suite.losses[0], suite.tuning, suite.split_seed) for _ in range(3)]
    assert len(grids[0]) == 4 and grids[0] == grids[1] == grids[2]
    assert all(g in [{"gamma": a, "alpha": b} for a in [0.5, 1, 2, 3, 5] for b in [None, "inverse"]]
               for g in grids[0])
