"""Leakage tests of dataset preparation: nothing fitted on data sees a test or validation row.

Each test would fail if a test sample leaked: rows are compared exactly, and the preprocessing is
refitted on exactly the rows it may see and must reproduce the prepared arrays bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from dflbench.config import parse_suite
from dflbench.datasets import SOURCES
from dflbench.datasets.split import stratified_split, validation_split
from dflbench.imbalance import apply_imbalance, parse_imbalance
from dflbench.prepare import prepare_task, take
from dflbench.preprocess import preprocessor_for

DATASET = {"name": "syn", "source": "synthetic", "n_samples": 600, "n_features": 6,
           "n_informative": 4, "n_redundant": 0, "n_classes": 3, "weights": [0.6, 0.3, 0.1], "random_state": 3,
           "imbalance": {"profile": "exponential", "ratio": 8}}


def _suite(early_stopping: bool):
    train = {"epochs": 1, **({"early_stopping": {"validation": 0.25}} if early_stopping else {})}
    return parse_suite({"name": "leak", "datasets": [DATASET], "losses": ["ce"], "train": train,
                        "test_size": 0.3, "split_seed": 5}, source="leak.yaml")


def _rows(a: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.ascontiguousarray(a)}


def _expected(suite):
    """The protocol by hand: split, imbalance on the training split, carve, fit on the fit rows."""
    entry = suite.datasets[0]
    params = {k: v for k, v in DATASET.items() if k not in ("name", "source", "imbalance")}
    ds = SOURCES.get("synthetic")("syn", **params)
    tr, te = stratified_split(ds.y, suite.test_size, suite.split_seed, class_names=ds.class_names)
    X_tr, y_tr = apply_imbalance(take(ds.X, tr), ds.y[tr],
                                 parse_imbalance(entry.imbalance, ds.class_names), suite.split_seed)
    fit_idx, val_idx = validation_split(y_tr, 0.25, suite.split_seed)
    X_fit, X_val = take(X_tr, fit_idx), take(X_tr, val_idx)
    pre = preprocessor_for(ds.kind).fit(X_fit)
    return pre, X_fit, X_val, take(ds.X, te), y_tr


def test_test_rows_never_reach_training_or_validation():
    task = prepare_task(_suite(early_stopping=True).datasets[0], _suite(early_stopping=True))
    test = _rows(task.folds[0].data.X_test)
    assert len(test) == len(task.folds[0].data.X_test)  # continuous features: every row is unique
    assert not test & _rows(task.folds[0].data.X_train)
    assert not test & _rows(task.folds[0].data.X_val)
    assert not _rows(task.folds[0].data.X_val) & _rows(task.folds[0].data.X_train)


def test_preprocessing_is_fitted_on_the_fit_rows_only():
    suite = _suite(early_stopping=True)
    task = prepare_task(suite.datasets[0], suite)
    pre, X_fit, X_val, X_test, _ = _expected(suite)
    np.testing.assert_array_equal(task.folds[0].data.X_train, pre.transform(X_fit))
    np.testing.assert_array_equal(task.folds[0].data.X_val, pre.transform(X_val))
    np.testing.assert_array_equal(task.folds[0].data.X_test, pre.transform(X_test))
    # The fit rows are standardised exactly; the held-out rows are not (they were not seen).
    assert np.abs(task.folds[0].data.X_train.mean(axis=0)).max() < 1e-5
    assert np.abs(task.folds[0].data.X_test.mean(axis=0)).max() > 1e-3


def test_the_validation_carve_comes_after_imbalance_synthesis():
    suite = _suite(early_stopping=True)
    task = prepare_task(suite.datasets[0], suite)
    *_, y_imbalanced = _expected(suite)
    counts = task.info.class_counts
    # "train" is the imbalanced training split; fit + validation rows partition it, per class.
    assert list(counts["train"].values()) == np.bincount(y_imbalanced).tolist()
    fit = np.bincount(task.folds[0].data.y_train, minlength=3)
    val = np.bincount(task.folds[0].data.y_val, minlength=3)
    assert (fit + val).tolist() == list(counts["train"].values())
    assert list(counts["validation"].values()) == val.tolist()
    assert task.folds[0].fit_counts == tuple(fit.tolist())


@pytest.mark.parametrize("early_stopping", [False, True])
def test_test_counts_keep_the_datasets_own_distribution(early_stopping: bool):
    suite = _suite(early_stopping)
    task = prepare_task(suite.datasets[0], suite)
    train, test = task.info.class_counts["train"], task.info.class_counts["test"]
    assert max(train.values()) / min(train.values()) >= 7  # exponential, ratio 8 on train
    assert max(test.values()) / min(test.values()) < 7  # the test split was not thinned
