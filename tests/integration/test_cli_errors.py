"""Bad input: exit 2, one line on stderr naming the problem and what is valid, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, write_suite


def test_unknown_suite(cli):
    assert_one_line_error(cli("run", "--suite", "imbalanced-tabluar"), "did you mean 'imbalanced-tabular'")


def test_missing_suite_file(cli, tmp_path: Path):
    assert_one_line_error(cli("run", "--suite", str(tmp_path / "nope.yaml")), "suite file not found")


def test_invalid_suite_key(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", train={"epochs": 2, "batchsize": 8})
    assert_one_line_error(cli("run", "--suite", str(path)), "train.batchsize", "did you mean 'batch_size'")


def test_yaml_error_names_file_and_line(cli, tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\n  bad: indent\n")
    assert_one_line_error(cli("run", "--suite", str(path)), "s.yaml:2:")


def test_bad_loss_parameter_value_fails_before_training(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", losses=[{"name": "focal", "gamma": -1}])
    assert_one_line_error(cli("run", "--suite", str(path), "--out", str(tmp_path / "r.json")), "gamma")
    assert not (tmp_path / "r.json").exists()


def test_weight_list_of_wrong_length_fails_before_training(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", losses=[{"name": "weighted_ce", "weights": [1.0, 2.0]}])
    assert_one_line_error(cli("run", "--suite", str(path)), "weighted_ce", "iris")


def test_unknown_dataset_name(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", datasets=[{"name": "irs", "source": "sklearn"}])
    assert_one_line_error(cli("run", "--suite", str(path)), "did you mean 'iris'")


def test_csv_dataset_missing_file_and_column(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", datasets=[
        {"name": "mine", "source": "csv", "path": str(tmp_path / "missing.csv"), "target": "y"}])
    assert_one_line_error(cli("run", "--suite", str(path)), "missing.csv")
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    path = write_suite(tmp_path / "s.yaml", datasets=[
        {"name": "mine", "source": "csv", "path": str(csv), "target": "lable"}])
    assert_one_line_error(cli("run", "--suite", str(path)), "lable", "label")


def test_bad_imbalance_profile(cli, tmp_path: Path):
    path = write_suite(tmp_path / "s.yaml", datasets=[
        {"name": "iris", "source": "sklearn", "imbalance": {"profile": "exponental", "ratio": 5}}])
    assert_one_line_error(cli("run", "--suite", str(path)), "exponental", "exponential")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--seeds", "0"], "--seeds"),
        (["run", "--device", "tpu"], "'tpu'"),
        (["run", "--format", "xml"], "'xml'"),
        (["run", "--losses", "dual_focall", "--suite", "smoke"], "did you mean 'dual_focal'"),
        (["list", "lossses"], "'lossses'"),
        (["frobnicate"], "frobnicate"),
        (["run", "--sede", "1"], "--sede"),
    ],
)
def test_bad_options(cli, args, needle):
    assert_one_line_error(cli(*args), needle)


def test_unwritable_out_fails_before_training(cli, tiny_suite: Path, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(cli("run", "--suite", str(tiny_suite), "--out", str(blocker / "r.json")), "--out")
    assert_one_line_error(cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path)), "is a folder")


def test_cuda_requested_without_cuda(cli, tiny_suite: Path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert_one_line_error(cli("run", "--suite", str(tiny_suite), "--device", "cuda"), "CUDA is not available")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"schema_version": 1, "runs": [', "not valid JSON"),
        ('{"hello": "world"}', "not a dflbench result file"),
        ('{"schema_version": 99}', "upgrade dflbench"),
        ("", "not valid JSON"),
    ],
)
def test_show_bad_result_files(cli, tmp_path: Path, content: str, needle: str):
    path = tmp_path / "r.json"
    path.write_text(content)
    assert_one_line_error(cli("show", str(path)), needle)


def test_show_missing_file(cli, tmp_path: Path):
    assert_one_line_error(cli("show", str(tmp_path / "none.json")), "no such result file")


def test_show_result_missing_fields(cli, tmp_path: Path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 1, "dflbench_version": "0", "created": "x",
                                "suite": {"name": "s"}, "environment": {}, "datasets": [],
                                "runs": [{"dataset": "d"}], "summary": []}))
    assert_one_line_error(cli("show", str(path)), "runs[0]", "missing 'treatment'")
