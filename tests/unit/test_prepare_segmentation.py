"""Preparing a segmentation dataset: whole images are split and dropped, masks follow their
images, nothing fitted on data sees a test image, counts are labelled pixels, and what does not
apply to masks is refused before training. Each leakage test would fail if a test image leaked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dflbench.config import parse_suite
from dflbench.errors import ConfigError
from dflbench.prepare import check_task_kind, prepare_task

SHAPES = {"name": "shapes", "source": "shapes", "n_images": 160, "seed": 4}


def _suite(dataset: dict[str, Any] | None = None, **extra: Any):
    doc = {"name": "seg", "seeds": 1, "datasets": [dataset or SHAPES], "losses": ["ce"],
           "model": {"name": "unet"}, "train": {"epochs": 1}, "test_size": 0.25,
           "split_seed": 3, **extra}
    return parse_suite(doc, source="seg.yaml")


def _images(X: np.ndarray) -> set[bytes]:
    return {np.ascontiguousarray(x).tobytes() for x in X}


@pytest.mark.parametrize("early_stopping", [False, True])
def test_test_images_never_reach_training_or_validation(early_stopping):
    train = {"epochs": 1, **({"early_stopping": {"validation": 0.25}} if early_stopping else {})}
    suite = _suite(train=train, protocol={"kind": "cv", "folds": 3})
    task = prepare_task(suite.datasets[0], suite)
    for fold in task.folds:
        test = _images(fold.data.X_test)
        assert len(test) == len(fold.data.X_test)  # noisy images: every one is unique
        assert not test & _images(fold.data.X_train)
        if early_stopping:
            assert not test & _images(fold.data.X_val)
            assert not _images(fold.data.X_val) & _images(fold.data.X_train)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_preprocessing_is_fitted_on_the_fit_images_only(early_stopping):
    """Standardised with statistics of exactly the fit images, those have per-channel mean 0
    and std 1; a leak of any validation or test image into the fit would move them."""
    train = {"epochs": 1, **({"early_stopping": {"validation": 0.25}} if early_stopping else {})}
    suite = _suite(train=train)
    data = prepare_task(suite.datasets[0], suite).folds[0].data
    fit = data.X_train.astype(np.float64)
    np.testing.assert_allclose(fit.mean(axis=(0, 2, 3)), 0.0, atol=1e-6)
    np.testing.assert_allclose(fit.std(axis=(0, 2, 3)), 1.0, atol=1e-5)
    assert np.abs(data.X_test.astype(np.float64).mean(axis=(0, 2, 3))).max() > 1e-3


def test_masks_follow_their_images(tmp_path):
    """The fixture paints each class in its own colour, so in every prepared image the pixels
    of one class share one value and different classes differ: true only if each mask stayed
    with its image through split, carve and preprocessing."""
    from tests.unit.datasets.image_fixtures import make_segmentation_folder

    folder = make_segmentation_folder(tmp_path / "seg")
    entry = {"name": "painted", "source": "segmentation_folder", "path": str(folder)}
    suite = _suite(entry, test_size=0.34, train={"epochs": 1, "early_stopping": {"validation": 0.3}})
    fold = prepare_task(suite.datasets[0], suite).folds[0]
    for X, masks in ((fold.data.X_train, fold.data.y_train), (fold.data.X_val, fold.data.y_val),
                     (fold.data.X_test, fold.y_test)):
        for image, mask in zip(X, masks):
            values = {int(k): np.unique(image[0][mask == k]) for k in np.unique(mask) if k >= 0}
            assert all(len(v) == 1 for v in values.values())
            assert len({float(v[0]) for v in values.values()}) == len(values)


def test_imbalance_drops_training_images_only_and_by_their_rarest_class():
    lt = {**SHAPES, "imbalance": {"profile": "exponential", "ratio": 10}}
    plain, thinned = (prepare_task(_suite(d).datasets[0], _suite(d)) for d in (SHAPES, lt))
    a, b = plain.folds[0], thinned.folds[0]
    assert a.class_counts["test"] == b.class_counts["test"]  # the test images are untouched
    assert len(b.data.X_train) < len(a.data.X_train)
    ratio = {c: b.class_counts["train"][c] / a.class_counts["train"][c] for c in plain.class_names}
    assert ratio["line"] < ratio["disc"] < ratio["blob"] <= ratio["background"] <= 1.0
    assert thinned.info.imbalance_ratio > plain.info.imbalance_ratio


def test_counts_are_labelled_pixels_and_ignored_pixels_count_nowhere():
    bordered = {**SHAPES, "ignore_border": 1}
    task = prepare_task(_suite(bordered).datasets[0], _suite(bordered))
    fold = task.folds[0]
    assert (fold.data.y_train == -1).any()
    labelled = fold.data.y_train[fold.data.y_train >= 0]
    assert list(fold.fit_counts) == np.bincount(labelled, minlength=4).tolist()
    assert sum(fold.class_counts["test"].values()) == int((fold.y_test >= 0).sum())
    assert task.info.n_samples == 160 and task.info.kind == "segmentation"
    assert task.info.minority_class == task.class_names[int(np.argmin(fold.fit_counts))]


def test_the_sample_images_are_test_images_with_their_masks():
    from dflbench.results import pictures

    task = prepare_task(_suite().datasets[0], _suite())
    fold, samples = task.folds[0], task.info.samples
    assert samples is fold.samples and len(samples["positions"]) == pictures.N_SAMPLES
    for pos, mask in zip(samples["positions"], samples["masks"]):
        np.testing.assert_array_equal(pictures.decode(mask, (32, 32)),
                                      pictures.mask_bytes(fold.y_test[pos]))
    rarest = int(np.argmin(fold.fit_counts))
    shown = [(fold.y_test[p] == rarest).sum() for p in samples["positions"]]
    assert min(shown) >= np.sort((fold.y_test == rarest).reshape(len(fold.y_test), -1).sum(1))[-3]


@pytest.mark.parametrize(("extra", "message"), [
    ({"model": {"name": "cnn"}}, "is a segmentation dataset but model 'cnn' is a classification "
                                  "model; use a segmentation model"),
    ({"losses": [{"name": "ce", "sampler": "random_over"}]}, "samplers resample whole rows"),
    ({"train": {"epochs": 1, "augment": {"flip": True}}}, "shifts and flips apply to image "
                                                         "classification datasets only"),
])
def test_what_does_not_apply_to_masks_is_refused(extra, message):
    suite = _suite(**extra)
    with pytest.raises(ConfigError, match=message):
        check_task_kind(suite, prepare_task(suite.datasets[0], suite))


def test_a_segmentation_model_or_metric_on_a_classification_dataset_is_refused():
    wine = {"name": "wine", "source": "sklearn"}
    suite = _suite(wine)
    with pytest.raises(ConfigError, match="is a tabular dataset but model 'unet' is a "
                                          "segmentation model"):
        check_task_kind(suite, prepare_task(suite.datasets[0], suite))
    suite = _suite(wine, model={"name": "mlp"}, metrics=["macro_f1", "mean_iou"])
    with pytest.raises(ConfigError, match="metric 'mean_iou' is measured over the pixels of "
                                          "segmentation datasets only"):
        check_task_kind(suite, prepare_task(suite.datasets[0], suite))


def test_a_tuning_carve_may_lack_a_rare_class_in_its_validation_images():
    """The carve scores configurations on validation images; a class they lack scores 0 for
    each configuration alike, so a tuned suite runs where the test split is sound."""
    lt50 = {**SHAPES, "n_images": 320, "seed": 0,
            "imbalance": {"profile": "exponential", "ratio": 50}}
    suite = _suite(lt50, losses=["ce", {"name": "focal", "tune": {"gamma": [1.0, 2.0]}}],
                   tuning={"validation": 0.25, "metric": "mean_iou"})
    fold = prepare_task(suite.datasets[0], suite).folds[0]
    assert fold.tune is not None and fold.tune.samples is None and fold.samples is not None
    assert fold.tune.class_counts["test"]["line"] == 0  # the case this test is about
    assert min(fold.class_counts["test"].values()) > 0
