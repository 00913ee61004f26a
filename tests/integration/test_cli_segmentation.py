"""Segmentation through the CLI: the shapes generator and a CamVid-style folder made by the test,
trained with a U-Net under per-pixel and region losses, reported per class over pixels, with
test images in the HTML report; what does not apply is refused in one line before training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, write_suite
from tests.unit.datasets.image_fixtures import make_segmentation_folder

UNET = {"name": "unet", "depth": 1, "width": 4}
TRAIN = {"epochs": 2, "batch_size": 8, "lr": 0.01, "early_stopping": {"validation": 0.2}}
METRICS = ["mean_iou", "mean_dice", "fw_iou", "pixel_accuracy", "minority_recall", "ece"]


def _run(cli, tmp_path: Path, datasets: list[dict], *extra: str, **overrides) -> dict:
    doc = {"model": UNET, "train": TRAIN, "metrics": METRICS,
           "losses": ["ce", "dual_focal", "soft_dice", "focal_tversky"], **overrides}
    suite = write_suite(tmp_path / "s.yaml", datasets=datasets, **doc)
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(suite), "--out", str(out), "--no-cache", *extra)
    assert res.code == 0, res.err
    return {"out": res.out, "result": json.loads(out.read_text())}


def test_shapes_with_ignored_borders_end_to_end(cli, tmp_path: Path):
    html = tmp_path / "r.html"
    ran = _run(cli, tmp_path, [{"name": "shapes", "source": "shapes", "n_images": 48, "size": 16,
                                "ignore_border": 1, "imbalance": {"profile": "exponential",
                                                                  "ratio": 4}}],
               "--html", str(html))
    result, out = ran["result"], ran["out"]
    info = result["datasets"][0]
    assert info["kind"] == "segmentation" and info["input_shape"] == [3, 16, 16]
    assert info["class_names"] == ["background", "blob", "disc", "line"]
    assert info["minority_class"] in ("disc", "line")  # the fewest training pixels
    assert info["imbalance_ratio"] > 50  # pixels, not images
    assert len(info["samples"]["positions"]) == 3
    runs = result["runs"]
    assert len(runs) == 8 and all(r["status"] == "ok" for r in runs)
    for r in runs:
        assert set(METRICS) <= set(r["metrics"])
        assert [c["label"] for c in r["per_class"]] == info["class_names"]
        assert all(0.0 <= c["iou"] <= c["f1"] <= 1.0 for c in r["per_class"])
        assert bool(r.get("predictions")) == (r["seed"] == 0)
    assert "per-class IoU / Dice / recall over pixels" in out
    assert f"rarest class '{info['minority_class']}'" in out and "line (" in out
    page = html.read_text()
    assert page.count("<img src=\"data:image/png;base64,") == 3 * (2 + 4)  # image, truth, 4 losses
    assert "Test images" in page and "ground truth" in page


def test_a_segmentation_folder_end_to_end(cli, tmp_path: Path):
    folder = make_segmentation_folder(tmp_path / "scenes")
    ran = _run(cli, tmp_path, [{"name": "scenes", "source": "segmentation_folder",
                                "path": str(folder)}], test_size=0.34)
    info = ran["result"]["datasets"][0]
    assert info["kind"] == "segmentation" and info["n_samples"] == 12
    assert info["class_names"] == ["background", "square", "dot"]
    assert all(r["status"] == "ok" for r in ran["result"]["runs"])
    counted = sum(sum(info["class_counts"][part].values()) for part in ("train", "test"))
    assert counted == 12 * 8 * 8 - 3 * 8  # every fourth image's void top row is left out
    shown = json.loads((tmp_path / "r.json").read_text())
    assert shown["summary"][0]["per_class"][0]["iou"]["mean"] is not None


def test_show_and_compare_read_a_segmentation_result(cli, tmp_path: Path):
    ran = _run(cli, tmp_path, [{"name": "shapes", "source": "shapes", "n_images": 40,
                                "size": 16}], seeds=1)
    del ran
    res = cli("show", str(tmp_path / "r.json"))
    assert res.code == 0 and "labelled pixels: train" in res.out
    res = cli("compare", str(tmp_path / "r.json"), str(tmp_path / "r.json"), "--metric",
              "mean_iou", "--max-drop", "0")
    assert res.code == 0, res.err


def test_a_classification_model_on_masks_is_refused_before_training(cli, tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", model={"name": "cnn", "channels": [4]},
                        datasets=[{"name": "shapes", "source": "shapes", "n_images": 40,
                                   "size": 16}])
    res = cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"), "--no-cache")
    assert_one_line_error(res, "dataset 'shapes' is a segmentation dataset but model 'cnn' is a "
                               "classification model; use a segmentation model (unet")
    assert not (tmp_path / "r.json").exists()


PIXEL_MODEL = '''
import torch
from torch import nn


class PixelNet(nn.Module):
    """One model: images (B, C, H, W) -> per-pixel logits (B, H, W, n_classes)."""

    task = "segmentation"

    def __init__(self, input_shape, n_classes, width: int = 4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(input_shape[0], width, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(width, n_classes, 1))

    def forward(self, x):
        return self.net(x).permute(0, 2, 3, 1)


class Flat(PixelNet):
    """Forgets to declare its task: a classification model to dflbench."""

    task = "classification"
'''


@pytest.mark.usefixtures("restored_registries")
def test_a_plugin_segmentation_model_end_to_end(cli, tmp_path: Path):
    (tmp_path / "pixelnet.py").write_text(PIXEL_MODEL)
    shapes = [{"name": "shapes", "source": "shapes", "n_images": 40, "size": 16}]
    ran = _run(cli, tmp_path, shapes, model={"name": "pixelnet.py:PixelNet", "width": 3},
               plugins=["pixelnet.py"], seeds=1)
    runs = ran["result"]["runs"]
    assert len(runs) == 4 and all(r["status"] == "ok" and "iou" in r["per_class"][0] for r in runs)
    suite = write_suite(tmp_path / "flat.yaml", datasets=shapes, plugins=["pixelnet.py"],
                        model={"name": "pixelnet.py:Flat"})
    res = cli("run", "--suite", str(suite), "--no-cache")
    assert_one_line_error(res, "is a segmentation dataset but model '", "pixelnet.py:Flat' is a "
                               "classification model; use a segmentation model (unet, or a plugin "
                               "model whose class sets task = 'segmentation')")
