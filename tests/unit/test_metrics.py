import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
    precision_recall_fscore_support,
)

from dflbench.metrics import METRICS, compute_metrics, expected_calibration_error


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=300)
    logits = rng.normal(size=(300, 4)) + 2.0 * np.eye(4)[y] * rng.random((300, 1))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, proba


def test_metrics_match_sklearn_and_imblearn(predictions):
    y, proba = predictions
    pred = proba.argmax(1)
    metrics, per_class = compute_metrics(y, proba, ["a", "b", "c", "d"], minority=2)
    assert metrics["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert metrics["weighted_f1"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert metrics["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert metrics["mcc"] == pytest.approx(matthews_corrcoef(y, pred))
    assert metrics["gmean"] == pytest.approx(geometric_mean_score(y, pred))
    assert metrics["accuracy"] == pytest.approx((pred == y).mean())
    p, r, f, s = precision_recall_fscore_support(y, pred)
    assert [c["recall"] for c in per_class] == pytest.approx(r)
    assert [c["precision"] for c in per_class] == pytest.approx(p)
    assert [c["f1"] for c in per_class] == pytest.approx(f)
    assert [c["support"] for c in per_class] == list(s)
    assert metrics["minority_recall"] == pytest.approx(r[2])
    assert set(metrics) == {m for m, info in METRICS.items() if not info.segmentation}


def test_starved_class_is_kept_with_zero_scores():
    y = np.array([0, 0, 1, 1, 2])
    proba = np.tile([0.6, 0.3, 0.1], (5, 1))  # always predicts class 0: class 2 never predicted
    metrics, per_class = compute_metrics(y, proba, ["x", "y", "z"], minority=2)
    assert [c["label"] for c in per_class] == ["x", "y", "z"]
    assert per_class[2] == {"label": "z", "support": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert metrics["minority_recall"] == 0.0
    assert metrics["gmean"] == 0.0


def test_ece_hand_computed():
    # Two bins used: conf 0.9 (both right) and conf 0.6 (one of two right).
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 0, 1, 1])
    # bin of 0.9: acc 1.0, conf 0.9 → 0.1 × 2/4; bin of 0.6: preds 0 and 1, y 1 and 1 → acc 0.5,
    # conf 0.6 → 0.1 × 2/4.
    assert expected_calibration_error(proba, y) == pytest.approx(0.1)


def test_ece_perfectly_calibrated_is_zero_and_overconfident_is_large():
    y = np.array([0, 1, 0, 1])
    assert expected_calibration_error(np.eye(2)[y], y) == pytest.approx(0.0)
    wrong = np.eye(2)[1 - y] * 0.99 + 0.005
    assert expected_calibration_error(wrong, y) == pytest.approx(0.995)


def test_confusion_counts_match_sklearn_and_keep_a_never_predicted_class(predictions):
    from sklearn.metrics import confusion_matrix

    from dflbench.metrics import confusion_counts

    y, proba = predictions
    assert confusion_counts(y, proba, 4) == confusion_matrix(y, proba.argmax(1)).tolist()
    starved = confusion_counts(np.array([0, 0, 1, 2]), np.tile([0.6, 0.3, 0.1], (4, 1)), 3)
    assert starved == [[2, 0, 0], [1, 0, 0], [1, 0, 0]]  # rows: true class; column 0: predicted


def test_calibration_bins_are_the_bins_of_the_ece(predictions):
    from dflbench.metrics import ECE_BINS, calibration_bins

    y, proba = predictions
    count, confidence, accuracy = calibration_bins(proba, y)
    assert len(count) == len(confidence) == len(accuracy) == ECE_BINS and sum(count) == len(y)
    edges = np.linspace(0, 1, ECE_BINS + 1)
    for b, n in enumerate(count):
        if n == 0:
            assert confidence[b] is None and accuracy[b] is None
        else:
            assert edges[b] < confidence[b] <= edges[b + 1]
    gaps = [n / len(y) * abs(a - c) for n, c, a in zip(count, confidence, accuracy) if n]
    assert sum(gaps) == pytest.approx(expected_calibration_error(proba, y), abs=1e-12)
    # Hand-computed: confidences 0.9, 0.9 (both right) and 0.6, 0.6 (one right).
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    count, confidence, accuracy = calibration_bins(proba, np.array([0, 0, 1, 1]))
    used = {b: (count[b], confidence[b], accuracy[b]) for b in range(ECE_BINS) if count[b]}
    assert used == {8: (2, pytest.approx(0.6), 0.5), 13: (2, pytest.approx(0.9), 1.0)}
