"""The typed result model, its published JSON Schema and the v1 → v2 migration."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dflbench.errors import ResultFileError
from dflbench.results import (
    SCHEMA_VERSION,
    RunStatus,
    SuiteResult,
    dumps,
    load_result,
    parse_result,
    schema,
    write_result,
)

V1_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "v1-smoke-0.1.0.json"


def test_the_published_schema_is_a_valid_json_schema_of_the_current_version():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_a_v1_file_migrates_to_v2():
    raw = json.loads(V1_FILE.read_text())
    assert raw["schema_version"] == 1 and "n_seeds" in raw["summary"][0]
    result = load_result(V1_FILE)
    assert result.schema_version == 2
    assert result.protocol == {"kind": "holdout", "repeats": 1, "test_size": 0.3, "split_seed": 0}
    assert all((r.repeat, r.fold) == (0, 0) for r in result.runs)
    assert [s.n_ok for s in result.summary] == [row["n_seeds"] for row in raw["summary"]]
    # Every figure survives the migration unchanged.
    assert [r.metrics for r in result.runs] == [r["metrics"] for r in raw["runs"]]
    learned = [r.train.learned["gamma"].trajectory for r in result.runs if r.train.learned]
    assert learned == [tuple(r["train"]["learned"]["gamma"]["trajectory"]) for r in raw["runs"]
                       if r["train"].get("learned")]


def test_what_dflbench_writes_validates_against_the_published_schema(tmp_path: Path):
    """Users' own tools can validate result files with the shipped schema file alone."""
    path = write_result(load_result(V1_FILE), tmp_path / "v2.json")
    jsonschema.validate(json.loads(path.read_text()), schema())


def test_round_trip_file_to_model_to_file_is_lossless(tmp_path: Path):
    first = load_result(V1_FILE)
    text = dumps(first)
    again = parse_result(json.loads(text), "again")
    assert dumps(again) == text
    assert again == first
    assert isinstance(again.runs[0].status, RunStatus) and isinstance(again, SuiteResult)


def _with_diagnostics(data: dict) -> dict:
    """``data`` with every ok run given the fields version 2 gained for the HTML report."""
    n = {d["name"]: len(d["class_names"]) for d in data["datasets"]}
    for run in data["runs"]:
        if run["status"] == "ok":
            c = n[run["dataset"]]
            run["confusion"] = [[5 if i == j else 1 for j in range(c)] for i in range(c)]
            run["calibration"] = {"count": [0, 3, 7], "confidence": [None, 0.5, 0.875],
                                  "accuracy": [None, 0.25, 1.0]}
            run["train"]["history"] = {"loss": [1.5, 0.75, None], "validation": [0.5, 0.625, 0.5],
                                       "monitor": "macro_f1"}
    return data


def test_confusion_calibration_and_history_are_optional_and_round_trip(tmp_path: Path):
    old = load_result(V1_FILE)
    assert all(r.confusion is None and r.calibration is None and r.train.history is None
               for r in old.runs)
    data = _with_diagnostics(json.loads(dumps(old)))
    jsonschema.validate(data, schema())
    result = parse_result(data, "new.json")
    run = result.runs[0]
    assert run.confusion[0][:2] == (5, 1) and len(run.confusion) == len(run.per_class)
    assert run.calibration.count == (0, 3, 7) and run.calibration.accuracy[0] is None
    assert run.train.history.loss == (1.5, 0.75, None) and run.train.history.monitor == "macro_f1"
    path = write_result(result, tmp_path / "r.json")
    assert load_result(path) == result
    assert json.loads(path.read_text())["runs"][0]["train"]["history"] == data["runs"][0]["train"]["history"]


@pytest.mark.parametrize(("damage", "needle"), [
    (lambda r: r["confusion"].pop(), "result.runs[0].confusion: expected 3 × 3 counts"),
    (lambda r: r["confusion"][1].append(0), "result.runs[0].confusion: expected 3 × 3 counts"),
    (lambda r: r["confusion"][0].__setitem__(0, -1), "result.runs[0].confusion[0][0]: -1 is invalid"),
    (lambda r: r["calibration"]["accuracy"].pop(), "result.runs[0].calibration: count, confidence and"),
    (lambda r: r["train"]["history"].pop("loss"), "result.runs[0].train.history: missing 'loss'"),
])
def test_a_damaged_diagnostic_is_one_short_line(damage, needle):
    data = _with_diagnostics(json.loads(dumps(load_result(V1_FILE))))
    damage(data["runs"][0])
    with pytest.raises(ResultFileError) as err:
        parse_result(data, "bad.json")
    assert needle in str(err.value), str(err.value)


def test_result_files_get_ordinary_permissions(tmp_path: Path):
    import os

    old = os.umask(0o022)
    try:
        path = write_result(load_result(V1_FILE), tmp_path / "r.json")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(("damage", "needle"), [
    (lambda d: d["runs"][0].update(status="finished"), "result.runs[0].status: unknown value 'finished'"),
    (lambda d: d["runs"][0].update(seed=1.0), "result.runs[0].seed: expected integer, got float"),
    (lambda d: d["datasets"][0].pop("class_names"), "result.datasets[0]: missing 'class_names'"),
    (lambda d: d["datasets"][0]["class_counts"]["test"].pop("class_0"), "no count for class 'class_0'"),
    (lambda d: d["summary"][0]["metrics"]["macro_f1"].update(mean="x" * 5000), "expected number or null"),
])
def test_a_damaged_file_is_one_short_line(damage, needle):
    data = json.loads(V1_FILE.read_text())
    damage(data)
    with pytest.raises(ResultFileError) as err:
        parse_result(data, "bad.json")
    message = str(err.value)
    assert needle in message and "\n" not in message and len(message) < 300, message


def test_a_newer_schema_is_refused_with_upgrade_advice():
    data = json.loads(V1_FILE.read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ResultFileError, match="upgrade dflbench"):
        parse_result(data, "new.json")
