"""The task cache: each finished dataset task is stored under a key that hashes its fully resolved
configuration, the dflbench version and a fingerprint of the code that can change a trained model
or its metrics (:data:`FINGERPRINTED`), so a rerun (``--resume``, the default) computes only what
is missing, and editing a renderer or the CLI invalidates nothing. Entries are JSON written
atomically; an unreadable or mismatching entry is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dflbench import __version__
from dflbench.config import DatasetEntry, Suite
from dflbench.errors import DflbenchError
from dflbench.fsio import atomic_write_text
from dflbench.results.io import finite
from dflbench.results.model import SCHEMA_VERSION
from dflbench.task import TaskOutput

#: The package's files and folders whose code decides a task's numbers: data preparation, the
#: engine, losses, models, samplers, metrics, and the records a task returns.
FINGERPRINTED = ("augment.py", "config", "datasets", "engine", "imbalance.py", "losses",
                 "metrics.py", "models", "params.py", "prepare.py", "preprocess.py", "registry.py",
                 "results/model.py", "samplers.py", "task.py", "tuning.py")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dflbench`` (``~/.cache/dflbench`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dflbench" / "tasks"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the :data:`FINGERPRINTED` sources: a changed trainer or loss never reuses old
    results, even in a development install whose version string has not moved."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        for f in files:
            digest.update(str(f.relative_to(root)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def task_config(suite: Suite, entry: DatasetEntry, device: str) -> dict[str, Any]:
    """Everything a dataset task's result depends on."""
    full = suite.to_dict()
    dataset = next(d for d in full["datasets"] if d["name"] == entry.name)
    return {
        "dflbench_version": __version__, "schema_version": SCHEMA_VERSION,
        "code": code_fingerprint(), "dataset": dataset,
        "seeds": full["seeds"], "split_seed": full["split_seed"], "test_size": full["test_size"],
        "model": full["model"], "train": full["train"], "losses": full["losses"],
        **{k: full[k] for k in ("protocol", "tuning") if k in full},
        "device": device.split(":")[0],
    }


def task_key(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class TaskCache:
    """A folder of finished tasks, one JSON file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> TaskOutput | None:
        """The stored task output, or None if absent, unreadable or not for this key."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("key") != key:
                return None
            return TaskOutput.from_dict(data["result"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError,
                IndexError, DflbenchError):
            return None

    def put(self, key: str, config: dict[str, Any], output: TaskOutput) -> None:
        """Store atomically; a failure to write the cache never fails the run."""
        text = json.dumps(finite({"key": key, "config": config, "result": output.to_dict()}),
                          sort_keys=True, allow_nan=False)
        try:
            atomic_write_text(self._path(key), text)
        except OSError:
            return
