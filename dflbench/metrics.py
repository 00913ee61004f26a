"""Metrics of one trained model on the test split: per class and overall.

scikit-learn and imbalanced-learn compute every metric they provide; per-class metrics always pass
``labels=`` and ``zero_division=0`` so a starved minority class never disappears or warns.
ECE follows Guo et al. (ICML 2017): 15 equal-width bins on the maximum probability.

For segmentation every labelled test pixel is a sample (:func:`pixels`): per-class F1 is the Dice
coefficient, and the segmentation metrics (Long et al., "Fully convolutional networks for semantic
segmentation", CVPR 2015: pixel accuracy, mean IoU, frequency-weighted IoU) come from
scikit-learn's ``jaccard_score`` and ``accuracy_score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MetricInfo:
    title: str
    higher_is_better: bool
    description: str
    segmentation: bool = False  # defined over the pixels of segmentation datasets only


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo("Acc", True, "fraction of test samples classified correctly"),
    "balanced_accuracy": MetricInfo("BalAcc", True, "mean per-class recall (scikit-learn)"),
    "macro_f1": MetricInfo("MacroF1", True, "unweighted mean of per-class F1"),
    "weighted_f1": MetricInfo("WtdF1", True, "per-class F1 weighted by test support"),
    "gmean": MetricInfo("G-mean", True, "geometric mean of per-class recalls (imbalanced-learn)"),
    "mcc": MetricInfo("MCC", True, "Matthews correlation coefficient, multi-class"),
    "ece": MetricInfo("ECE", False, "expected calibration error, 15 bins on max probability"),
    "minority_recall": MetricInfo(
        "MinRecall", True, "recall of the class with the fewest training samples"
    ),
    "mean_iou": MetricInfo("mIoU", True, "mean over classes of per-pixel IoU (Jaccard index)",
                           segmentation=True),
    "mean_dice": MetricInfo("mDice", True, "mean over classes of per-pixel Dice (F1)",
                            segmentation=True),
    "fw_iou": MetricInfo("fwIoU", True, "per-class IoU weighted by each class's test pixels",
                         segmentation=True),
    "pixel_accuracy": MetricInfo("PixAcc", True, "fraction of test pixels classified correctly",
                                 segmentation=True),
}

ECE_BINS = 15


def calibration_bins(proba: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS
                     ) -> tuple[list[int], list[float | None], list[float | None]]:
    """The reliability diagram's data (Guo et al., ICML 2017): ``n_bins`` equal-width bins on the
    maximum probability (lower edge exclusive); per bin the number of rows, their mean confidence
    and their accuracy (None for an empty bin)."""
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin b holds confidences in (edges[b], edges[b+1]]; a confidence of exactly 0 cannot occur.
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts: list[int] = []
    mean_conf: list[float | None] = []
    accuracy: list[float | None] = []
    for b in range(n_bins):
        mask = bins == b
        counts.append(int(mask.sum()))
        mean_conf.append(float(confidence[mask].mean()) if mask.any() else None)
        accuracy.append(float(correct[mask].mean()) if mask.any() else None)
    return counts, mean_conf, accuracy


Bins = tuple[list[int], list[float | None], list[float | None]]


def expected_calibration_error(proba: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS,
                               bins: Bins | None = None) -> float:
    """ECE over ``n_bins`` equal-width confidence bins (Guo et al.): the row-weighted mean gap
    between accuracy and confidence over :func:`calibration_bins` (``bins``, when the caller has
    them already)."""
    n = len(y_true)
    ece = 0.0
    for count, conf, acc in zip(*(bins or calibration_bins(proba, y_true, n_bins))):
        if count:
            ece += (count / n) * abs(acc - conf)
    return float(ece)


def confusion_counts(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> list[list[int]]:
    """The confusion matrix of the argmax predictions (scikit-learn), C × C counts, rows the true
    class, every class present even when never predicted."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, proba.argmax(axis=1), labels=list(range(n_classes)))
    return matrix.astype(int).tolist()


def pixels(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks (N, H, W) and probabilities (N, H, W, C) as the labelled pixels' labels (M,) and
    probabilities (M, C), ignored pixels (label -1) left out; labels (N,) pass unchanged."""
    if y_true.ndim == 1:
        return y_true, proba
    flat = y_true.reshape(-1)
    keep = flat >= 0
    return flat[keep], proba.reshape(-1, proba.shape[-1])[keep]


def compute_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    minority: int,
    segmentation: bool = False,
    bins: Bins | None = None,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Overall metrics and per-class rows for one model.

    ``proba`` is (N, C) class probabilities; predictions are its argmax. ``minority`` is the label
    with the fewest training samples (its recall is reported as ``minority_recall``). With
    ``segmentation`` the rows are pixels (:func:`pixels`), and the segmentation metrics and each
    class's IoU are added. ``bins``: the :func:`calibration_bins`, when the caller has them.
    Macro and weighted F1 are scikit-learn's averages of the per-class F1 it has just computed
    (``np.average``, unweighted and by support, as ``f1_score`` does), not a second pass.
    """
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        matthews_corrcoef,
        precision_recall_fscore_support,
    )

    labels = list(range(len(class_names)))
    y_pred = proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "macro_f1": np.average(f1),
        "weighted_f1": np.average(f1, weights=support),
        "gmean": geometric_mean_score(y_true, y_pred, labels=labels, average="multiclass"),
        "mcc": matthews_corrcoef(y_true, y_pred),
        "ece": expected_calibration_error(proba, y_true, bins=bins),
        "minority_recall": recall[minority],
    }
    per_class = [
        {
            "label": class_names[c],
            "support": int(support[c]),
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
        }
        for c in labels
    ]
    if segmentation:
        metrics.update(_segmentation_metrics(y_true, y_pred, labels, metrics, per_class, support))
    return {k: float(v) for k, v in metrics.items()}, per_class


def _segmentation_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int],
                          metrics: dict[str, Any], per_class: list[dict[str, Any]],
                          support: np.ndarray) -> dict[str, float]:
    """Each class's IoU (scikit-learn's ``jaccard_score``, added to its row of ``per_class``) and
    what follows from the figures already computed: pixel accuracy is the accuracy over pixels,
    mean Dice the macro F1, mean IoU the mean of the IoUs, and frequency-weighted IoU their mean
    weighted by test pixels (scikit-learn's ``average="weighted"``; tests hold it to that)."""
    from sklearn.metrics import jaccard_score

    iou = jaccard_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for row, value in zip(per_class, iou):
        row["iou"] = float(value)
    return {
        "pixel_accuracy": metrics["accuracy"],
        "mean_iou": float(np.mean(iou)),
        "mean_dice": metrics["macro_f1"],
        "fw_iou": float(np.average(iou, weights=support)),
    }
