"""Result files: the versioned JSON contract that ``compare``, CI and users rely on.

Written with sorted keys and finite numbers only (a non-finite number becomes null), to a temporary
file that is then renamed, so a reader never sees half a file. Readers validate the structure,
migrate older schema versions and refuse newer ones with an "upgrade dflbench" message.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dflbench import __version__
from dflbench.errors import ResultFileError

SCHEMA_VERSION = 1

#: Functions upgrading a result dict from schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

RUN_STATUSES = ("ok", "diverged", "failed")


@dataclass
class SuiteResult:
    """Everything a run produced: provenance, per-dataset facts, per-model runs, the summary."""

    suite: dict[str, Any]
    environment: dict[str, Any]
    datasets: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    cache: dict[str, list[str]] = field(default_factory=lambda: {"reused": [], "computed": []})
    created: str = field(default_factory=lambda: utc_now())
    dflbench_version: str = __version__
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "dflbench_version": self.dflbench_version,
            "created": self.created,
            "complete": self.complete,
            "cache": self.cache,
            "suite": self.suite,
            "environment": self.environment,
            "datasets": self.datasets,
            "runs": self.runs,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        return cls(
            suite=data["suite"], environment=data["environment"], datasets=data["datasets"],
            runs=data["runs"], summary=data["summary"], complete=data.get("complete", True),
            cache=data.get("cache", {"reused": [], "computed": []}),
            created=data["created"], dflbench_version=data["dflbench_version"],
            schema_version=data["schema_version"],
        )

    @property
    def failed_runs(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "failed"]


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def environment(device: str, threads: int = 1) -> dict[str, Any]:
    """Versions and machine facts recorded with every result; ``threads``: how many threads
    trained each dataset (engine sub-stacks, one torch thread each)."""
    import imblearn
    import numpy
    import sklearn
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "sklearn": sklearn.__version__,
        "imblearn": imblearn.__version__,
        "platform": platform.platform(),
        "device": device,
        "threads": threads,
    }


def finite(value: Any) -> Any:
    """A copy of ``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(result: SuiteResult) -> str:
    return json.dumps(finite(result.to_dict()), sort_keys=True, indent=1, allow_nan=False) + "\n"


def write_result(result: SuiteResult, path: Path) -> Path:
    """Write atomically: a temporary file in the same folder, then an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(result)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def default_path(suite_name: str, created: str) -> Path:
    stamp = created.replace("-", "").replace(":", "")
    return Path("results") / f"{suite_name}-{stamp}.json"


def load_result(path: str | Path) -> SuiteResult:
    """Read, validate and migrate a result file; any problem is one ResultFileError line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultFileError(f"{path}: no such result file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg});"
            " the file may be truncated"
        ) from None
    return parse_result(data, str(path))


def parse_result(data: Any, where: str = "<result>") -> SuiteResult:
    """Validate a decoded result dict (migrating older schema versions)."""
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultFileError(f"{where}: not a dflbench result file (no schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ResultFileError(f"{where}: invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ResultFileError(
            f"{where}: written by a newer dflbench (schema_version {version}; this dflbench "
            f"{__version__} reads up to {SCHEMA_VERSION}); upgrade dflbench"
        )
    while data["schema_version"] < SCHEMA_VERSION:
        data = MIGRATIONS[data["schema_version"]](data)
    _validate(data, where)
    return SuiteResult.from_dict(data)


_NUM = (int, float)
_OPT_NUM = (int, float, type(None))
_MEAN_STD = {"mean": _OPT_NUM, "std": _OPT_NUM}
_COUNTS = ("map", int)

#: The structure every reader (show, compare, reports) relies on; keys ending in "?" are optional.
_SCHEMA: dict[str, Any] = {
    "dflbench_version": str, "created": str, "complete?": bool,
    "cache?": {"reused": [str], "computed": [str]},
    "suite": {"name": str, "config?": {"metrics?": [str]}},
    "environment": dict,
    "datasets": [{
        "name": str, "source": str, "description": str, "n_samples": int, "n_features": int,
        "n_classes": int, "class_names": [str], "class_counts": {"train": _COUNTS, "test": _COUNTS},
        "imbalance": (dict, type(None)), "imbalance_ratio": _NUM, "minority_class": str,
    }],
    "runs": [{
        "dataset": str, "treatment": str, "loss": str, "loss_params?": dict, "seed": int,
        "sampler?": (str, type(None)), "sampler_params?": dict,
        "status": str, "error?": str, "train?": dict, "metrics": ("map", _OPT_NUM),
        "per_class": [{"label": str, "support": int, "precision": _NUM, "recall": _NUM, "f1": _NUM}],
    }],
    "summary": [{
        "dataset": str, "treatment": str, "loss?": str, "loss_title?": str, "loss_params?": dict,
        "sampler?": (str, type(None)), "n_seeds": int, "n_runs": int,
        "metrics": ("map", {"mean": _OPT_NUM, "std": _OPT_NUM, "ci95?": (list, type(None))}),
        "per_class": [{"label": str, "recall": _MEAN_STD, "f1": _MEAN_STD}],
        "learned?": ("map", _MEAN_STD),
    }],
}


def _check(value: Any, spec: Any, at: str, where: str) -> None:
    """Raise ResultFileError where ``value`` does not have the shape ``spec`` describes."""
    def fail(problem: str) -> ResultFileError:
        return ResultFileError(f"{where}: {at}: {problem}")

    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise fail(f"expected an object, got {type(value).__name__}")
        for key, sub in spec.items():
            name = key.rstrip("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                raise fail(f"missing '{name}'")
            _check(value[name], sub, f"{at}.{name}", where)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise fail(f"expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            _check(item, spec[0], f"{at}[{i}]", where)
    elif isinstance(spec, tuple) and spec and spec[0] == "map":
        if not isinstance(value, dict):
            raise fail(f"expected an object, got {type(value).__name__}")
        for key, item in value.items():
            _check(item, spec[1], f"{at}.{key}", where)
    else:
        types = spec if isinstance(spec, tuple) else (spec,)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise fail(f"unexpected type {type(value).__name__}")


def _validate(data: dict[str, Any], where: str) -> None:
    _check(data, _SCHEMA, "result", where)
    for i, run in enumerate(data["runs"]):
        if run["status"] not in RUN_STATUSES:
            raise ResultFileError(f"{where}: runs[{i}].status: unknown status '{run['status']}'")
    for i, info in enumerate(data["datasets"]):
        for split in ("train", "test"):
            missing = set(info["class_names"]) - set(info["class_counts"][split])
            if missing:
                raise ResultFileError(f"{where}: datasets[{i}].class_counts.{split}: no count for "
                                      f"class '{sorted(missing)[0]}'")
