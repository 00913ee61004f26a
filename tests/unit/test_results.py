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
