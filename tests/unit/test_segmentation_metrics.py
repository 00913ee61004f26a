"""Segmentation metrics over pixels, against scikit-learn, and the pictures a result stores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, jaccard_score

from dflbench.metrics import METRICS, compute_metrics, pixels
from dflbench.results import pictures

NAMES = ["background", "blob", "disc", "line"]


@pytest.fixture
def masks():
    """Masks (6, 8, 8) with ignored pixels, and noisy per-pixel probabilities (6, 8, 8, 4)."""
    rng = np.random.default_rng(3)
    y = rng.choice(4, size=(6, 8, 8), p=[0.7, 0.2, 0.07, 0.03])
    y[:, 0, :] = -1  # an ignored border row
    logits = rng.normal(size=(6, 8, 8, 4)) + 2.5 * np.eye(4)[np.clip(y, 0, 3)]
    proba = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return y, proba


def test_pixels_leave_ignored_pixels_out(masks):
    y, proba = masks
    flat_y, flat_p = pixels(y, proba)
    assert flat_y.shape == ((y >= 0).sum(),) and flat_p.shape == (flat_y.size, 4)
    assert flat_y.min() >= 0
    np.testing.assert_array_equal(flat_p, proba.reshape(-1, 4)[y.reshape(-1) >= 0])


def test_labels_pass_through_unchanged():
    y, proba = np.array([0, 1, 1]), np.eye(2)[[0, 1, 0]]
    assert pixels(y, proba)[0] is y and pixels(y, proba)[1] is proba


def test_segmentation_metrics_match_sklearn(masks):
    y, pred = pixels(*masks)
    labels = pred.argmax(1)
    metrics, per_class = compute_metrics(y, pred, NAMES, minority=3, segmentation=True)
    assert metrics["mean_iou"] == pytest.approx(jaccard_score(y, labels, average="macro"))
    assert metrics["fw_iou"] == pytest.approx(jaccard_score(y, labels, average="weighted"))
    assert metrics["pixel_accuracy"] == pytest.approx(accuracy_score(y, labels))
    assert metrics["mean_dice"] == pytest.approx(f1_score(y, labels, average="macro"))
    assert [c["iou"] for c in per_class] == pytest.approx(jaccard_score(y, labels, average=None))
    assert set(metrics) == set(METRICS)


def test_iou_and_dice_follow_from_the_confusion_counts(masks):
    """IoU = TP / (TP + FP + FN), Dice = 2 TP / (2 TP + FP + FN), fwIoU weights IoU by each
    class's share of the test pixels (Long et al., CVPR 2015)."""
    y, pred = pixels(*masks)
    cm = confusion_matrix(y, pred.argmax(1), labels=range(4))
    tp = np.diag(cm)
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    metrics, per_class = compute_metrics(y, pred, NAMES, minority=3, segmentation=True)
    iou = tp / (tp + fp + fn)
    assert [c["iou"] for c in per_class] == pytest.approx(iou)
    assert [c["f1"] for c in per_class] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert metrics["fw_iou"] == pytest.approx(float((cm.sum(1) / cm.sum()) @ iou))
    # IoU never exceeds Dice, and Dice = 2 IoU / (1 + IoU).
    for c in per_class:
        assert c["iou"] <= c["f1"] + 1e-12
        assert c["f1"] == pytest.approx(2 * c["iou"] / (1 + c["iou"]))


def test_a_perfect_prediction_scores_one(masks):
    y, _ = pixels(*masks)
    metrics, per_class = compute_metrics(y, np.eye(4)[y], NAMES, minority=3, segmentation=True)
    assert metrics["mean_iou"] == metrics["fw_iou"] == metrics["pixel_accuracy"] == 1.0
    assert all(c["iou"] == 1.0 for c in per_class)


def test_classification_records_have_no_iou():
    y = np.array([0, 1, 1, 0])
    metrics, per_class = compute_metrics(y, np.eye(2)[y], ["a", "b"], minority=1)
    assert "mean_iou" not in metrics and all("iou" not in c for c in per_class)


def test_pictures_round_trip_and_ignored_pixels():
    mask = np.array([[0, 1], [-1, 3]])
    stored = pictures.mask_bytes(mask)
    assert stored.tolist() == [[0, 1], [pictures.IGNORED, 3]]
    assert pictures.decode(pictures.encode(stored), (2, 2)).tolist() == stored.tolist()
    image = np.linspace(-1, 3, 12, dtype=np.float32).reshape(3, 2, 2)
    shown = pictures.image_bytes(image)
    assert shown.dtype == np.uint8 and shown.min() == 0 and shown.max() == 255
    assert pictures.image_bytes(np.ones((1, 2, 2))).max() == 0  # a flat image stays flat


def test_chosen_images_hold_the_most_pixels_of_the_rarest_classes():
    masks = np.zeros((5, 4, 4), dtype=np.int64)
    masks[1, 0, :2] = 2  # 2 pixels of the rarest class
    masks[3, 0, :3] = 2  # 3 pixels of it
    masks[4, 1, :] = 1  # only the second rarest
    assert pictures.chosen(masks, rarest=[2, 1, 0], n=3) == [1, 3, 4]
    assert pictures.chosen(masks, rarest=[2, 1, 0], n=1) == [3]
