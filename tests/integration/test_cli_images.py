"""Image datasets through the CLI: an image folder and MNIST-format IDX files made by the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.conftest import write_suite
from tests.unit.datasets.image_fixtures import label_images, make_image_folder, write_idx

IMAGE_TRAIN = {"epochs": 3, "batch_size": 32, "lr": 0.01, "augment": {"shift": 1}}


def _run(cli, tmp_path: Path, datasets: list[dict]) -> dict:
    suite = write_suite(tmp_path / "s.yaml", datasets=datasets, model={"name": "cnn", "channels": [4, 8]},
                        train=IMAGE_TRAIN, losses=["ce", "dual_focal"])
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(suite), "--out", str(out), "--no-cache")
    assert res.code == 0, res.err
    return {"out": res.out, "result": json.loads(out.read_text())}


def test_image_folder_dataset_end_to_end(cli, tmp_path: Path):
    folder = tmp_path / "photos"
    make_image_folder(folder, ["cat", "dog", "emu"], per_class=[30, 12, 8], size=[10, 12], mode="rgb")
    ran = _run(cli, tmp_path, [{"name": "pets", "source": "image_folder", "path": str(folder),
                                "size": 8, "mode": "rgb", "imbalance": {"profile": "step", "ratio": 3}}])
    info = ran["result"]["datasets"][0]
    assert info["kind"] == "image" and info["input_shape"] == [3, 8, 8]
    assert info["class_names"] == ["cat", "dog", "emu"]
    assert all(r["status"] == "ok" and len(r["per_class"]) == 3 for r in ran["result"]["runs"])
    assert "cat (train" in ran["out"] and "emu (train" in ran["out"]


def test_idx_dataset_end_to_end(cli, tmp_path: Path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=120)
    images = label_images(labels, size=8)
    write_idx(tmp_path / "mnist", images, labels, gz=True, split="train")
    write_idx(tmp_path / "mnist", images[:40], labels[:40], gz=False, split="test")
    ran = _run(cli, tmp_path, [{"name": "tiny-mnist", "source": "idx", "path": str(tmp_path / "mnist"),
                                "class_names": ["zero", "one", "two", "three"],
                                "imbalance": {"profile": "exponential", "ratio": 5}}])
    info = ran["result"]["datasets"][0]
    assert info["n_samples"] == 160 and info["input_shape"] == [1, 8, 8]
    counts = info["class_counts"]["train"]
    assert max(counts.values()) / min(counts.values()) >= 4
    assert {r["treatment"] for r in ran["result"]["runs"]} == {"ce", "dual_focal"}


def test_cnn_on_a_table_fails_before_training(cli, tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", model={"name": "cnn"})
    res = cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"))
    assert res.code == 2 and "needs image data" in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_augment_on_a_table_fails_before_training(cli, tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", train={"epochs": 1, "augment": {"flip": True}})
    res = cli("run", "--suite", str(suite))
    assert res.code == 2 and "train.augment" in res.err and "image classification datasets only" in res.err
