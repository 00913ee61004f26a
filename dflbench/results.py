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


def environment(device: str) -> dict[str, Any]:
    """Versions and machine facts recorded with every result."""
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
        "threads": torch.get_num_threads(),
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


def _validate(data: dict[str, Any], where: str) -> None:
    def need(obj: Any, key: str, kind: type | tuple[type, ...], at: str) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            raise ResultFileError(f"{where}: {at}: missing '{key}'")
        value = obj[key]
        if not isinstance(value, kind):
            raise ResultFileError(f"{where}: {at}.{key}: unexpected type {type(value).__name__}")
        return value

    for key, kind in (("dflbench_version", str), ("created", str), ("suite", dict),
                      ("environment", dict), ("datasets", list), ("runs", list), ("summary", list)):
        need(data, key, kind, "result")
    need(data["suite"], "name", str, "suite")
    for i, run in enumerate(data["runs"]):
        at = f"runs[{i}]"
        for key, kind in (("dataset", str), ("treatment", str), ("loss", str), ("seed", int),
                          ("status", str), ("metrics", dict), ("per_class", list)):
            need(run, key, kind, at)
        if run["status"] not in RUN_STATUSES:
            raise ResultFileError(f"{where}: {at}.status: unknown status '{run['status']}'")
    for i, row in enumerate(data["summary"]):
        at = f"summary[{i}]"
        for key, kind in (("dataset", str), ("treatment", str), ("n_seeds", int),
                          ("metrics", dict), ("per_class", list)):
            need(row, key, kind, at)
        for name, stat in row["metrics"].items():
            need(stat, "mean", (int, float, type(None)), f"{at}.metrics.{name}")
