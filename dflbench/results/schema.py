"""Reading result files: migrate older schema versions, validate against the published JSON Schema
(``result.schema.json`` beside this module), then check what a schema cannot say.

Every problem becomes one :class:`~dflbench.errors.ResultFileError` line naming the file, the place
in it and what was expected; a value in the file is never echoed at length.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from dflbench import __version__
from dflbench.errors import ResultFileError
from dflbench.params import short
from dflbench.results.model import SCHEMA_VERSION, SuiteResult


def schema() -> dict[str, Any]:
    """The JSON Schema of the current result version (also shipped for users' own tools)."""
    return json.loads(resources.files("dflbench.results").joinpath("result.schema.json").read_text())


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators

    # JSON Schema counts 1.0 as an integer; a count or a seed written as a float is a damaged file.
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
    cls = validators.extend(Draft202012Validator, type_checker=checker)
    return cls(schema())


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds a protocol, each run's repeat and fold, and calls a summary row's count of
    successful runs ``n_ok`` (it was ``n_seeds``: with folds, runs are no longer seeds)."""
    config = data.get("suite", {}).get("config", {}) if isinstance(data.get("suite"), dict) else {}
    config = config if isinstance(config, dict) else {}
    data["protocol"] = {"kind": "holdout", "repeats": 1,
                        **{k: config[k] for k in ("test_size", "split_seed") if k in config}}
    for run in data.get("runs") if isinstance(data.get("runs"), list) else []:
        if isinstance(run, dict):
            run.setdefault("repeat", 0)
            run.setdefault("fold", 0)
    for row in data.get("summary") if isinstance(data.get("summary"), list) else []:
        if isinstance(row, dict) and "n_seeds" in row:
            row["n_ok"] = row.pop("n_seeds")
    data["schema_version"] = 2
    return data


#: Functions upgrading a decoded result from schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}



def _where(path: Any) -> str:
    out = "result"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def _describe(error: Any) -> str:
    """One short line for a jsonschema error (its own message may quote a whole object)."""
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        missing = next((k for k in expected if k not in error.instance), expected[0])
        return f"{_where(error.absolute_path)}: missing '{missing}'"
    at = _where(error.absolute_path)
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        got = "null" if error.instance is None else type(error.instance).__name__
        return f"{at}: expected {' or '.join(names)}, got {got}"
    if kind in ("enum", "const"):
        valid = expected if kind == "enum" else [expected]
        return f"{at}: unknown value {short(error.instance)} (valid: {', '.join(map(str, valid))})"
    return f"{at}: {short(error.instance)} is invalid ({kind} {short(expected)})"


def _check_counts(data: dict[str, Any], where: str) -> None:
    """Every class of a dataset has a count in each split (a schema cannot tie keys to a list)."""
    for i, info in enumerate(data["datasets"]):
        for split in ("train", "test"):
            missing = set(info["class_names"]) - set(info["class_counts"][split])
            if missing:
                raise ResultFileError(f"{where}: result.datasets[{i}].class_counts.{split}: no "
                                      f"count for class {short(sorted(missing)[0])}")


def _check_diagnostics(data: dict[str, Any], where: str) -> None:
    """A run's confusion matrix is C × C for its dataset's C classes; its calibration lists are
    one entry per bin each."""
    n_classes = {info["name"]: len(info["class_names"]) for info in data["datasets"]}
    for i, run in enumerate(data["runs"]):
        n = n_classes.get(run["dataset"])
        matrix = run.get("confusion")
        if matrix is not None and n is not None and (len(matrix) != n or any(len(r) != n for r in matrix)):
            raise ResultFileError(f"{where}: result.runs[{i}].confusion: expected {n} × {n} counts "
                                  f"(one row and column per class)")
        bins = run.get("calibration")
        if bins is not None and not len(bins["count"]) == len(bins["confidence"]) == len(bins["accuracy"]):
            raise ResultFileError(f"{where}: result.runs[{i}].calibration: count, confidence and "
                                  "accuracy must have one entry per bin each")


def parse_result(data: Any, where: str = "<result>") -> SuiteResult:
    """Validate a decoded result (migrating older schema versions) into a :class:`SuiteResult`."""
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultFileError(f"{where}: not a dflbench result file (no schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ResultFileError(f"{where}: invalid schema_version {short(version)}")
    if version > SCHEMA_VERSION:
        raise ResultFileError(
            f"{where}: written by a newer dflbench (schema_version {version}; this dflbench "
            f"{__version__} reads up to {SCHEMA_VERSION}); upgrade dflbench")
    while data["schema_version"] < SCHEMA_VERSION:
        data = MIGRATIONS[data["schema_version"]](data)
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise ResultFileError(f"{where}: {_describe(error)}")
    _check_counts(data, where)
    _check_diagnostics(data, where)
    return SuiteResult.from_dict(data)
