"""The task cache: each finished dataset task is stored under a key that hashes its fully resolved
configuration (local files by absolute path), a digest of the data it trains and is scored on
(:func:`data_digest`), the dflbench version and a fingerprint of the code that can change a trained
model or its metrics (:data:`FINGERPRINTED`), so a rerun (``--resume``, the default) computes only
what is missing, an edited data file is never answered with the old file's numbers, and editing a
renderer or the CLI invalidates nothing. Entries are JSON written atomically, with the run that
computed them (:class:`CachedTask`); an unreadable or mismatching entry is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dflbench import __version__
from dflbench.config import DatasetEntry, Suite
from dflbench.errors import DflbenchError
from dflbench.fsio import atomic_write_text
from dflbench.results.io import finite
from dflbench.results.model import SCHEMA_VERSION
from dflbench.task import TaskOutput

if TYPE_CHECKING:
    from dflbench.prepare import PreparedTask

#: The package's files and folders whose code decides a task's numbers: data preparation, the
#: engine, losses, models, samplers, metrics, and the records a task returns.
FINGERPRINTED = ("augment.py", "datasets", "engine", "imbalance.py", "losses",
                 "metrics.py", "models", "params.py", "prepare.py", "preprocess.py", "registry.py",
                 "results/model.py", "results/pictures.py", "results/run_parts.py", "samplers.py",
                 "task.py", "tuning.py")


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


def data_digest(task: PreparedTask) -> str:
    """SHA-256 of everything a prepared task trains and is scored on: every split's (and tuning
    carve's) training, validation and test arrays (dtype, shape and bytes), test labels, and the
    class names.

    Keying on the prepared data rather than on files covers every source alike (a csv edited in
    place, another file at the same relative path, an OpenML or imbalanced-learn cache refreshed,
    a package whose bundled data changed) and every library step between file and array (parsing,
    image resizing, preprocessing)."""
    digest = hashlib.sha256()
    splits = [f for fold in task.folds for f in (fold, fold.tune) if f is not None]
    for split in splits:
        data = split.data
        for array in (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, split.y_test):
            if array is None:
                digest.update(b"none;")
                continue
            contiguous = np.ascontiguousarray(array)
            digest.update(f"{contiguous.dtype.str}{contiguous.shape};".encode())
            digest.update(contiguous.data)
    digest.update(json.dumps(list(task.class_names)).encode())
    return digest.hexdigest()


def task_config(suite: Suite, entry: DatasetEntry, device: str, data: str = "") -> dict[str, Any]:
    """Everything a dataset task's result depends on; ``data`` is its :func:`data_digest`."""
    full = suite.to_dict()
    dataset = next(d for d in full["datasets"] if d["name"] == entry.name)
    plugins = plugin_code(suite)
    return {
        "dflbench_version": __version__, "schema_version": SCHEMA_VERSION,
        "code": code_fingerprint(), "dataset": dataset, "data": data,
        "seeds": full["seeds"], "split_seed": full["split_seed"], "test_size": full["test_size"],
        "model": full["model"], "train": full["train"], "losses": full["losses"],
        **{k: full[k] for k in ("protocol", "tuning") if k in full},
        **({"plugin_code": plugins} if plugins else {}),
        "device": device.split(":")[0],
    }


def plugin_code(suite: Suite) -> dict[str, str]:
    """SHA-256 of every plugin file the suite runs (its ``plugins`` and the files of losses or
    models named ``FILE.py:Class``): an edited plugin is new code, never answered from the cache.
    Plugins given as installed modules are keyed by their package's version instead."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for ref in suite.plugin_refs:
        path = Path(ref)
        if ref.endswith(".py") and path.is_file():
            out[ref] = hashlib.sha256(path.read_bytes()).hexdigest()
            continue
        try:
            out[ref] = version(ref.split(".")[0])
        except PackageNotFoundError:
            out[ref] = "?"
    return out


def task_key(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CachedTask:
    """A stored task output and the run that computed it (``origin``: its ``created`` time,
    ``suite`` name and ``result`` file, as far as that run knew them)."""

    output: TaskOutput
    origin: dict[str, str]


class TaskCache:
    """A folder of finished tasks, one JSON file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> CachedTask | None:
        """The stored task, or None if absent, unreadable or not for this key."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("key") != key:
                return None
            origin = data.get("origin")
            origin = {k: str(v) for k, v in origin.items() if v is not None} \
                if isinstance(origin, dict) else {}
            return CachedTask(TaskOutput.from_dict(data["result"]), origin)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError,
                IndexError, DflbenchError):
            return None

    def put(self, key: str, config: dict[str, Any], output: TaskOutput,
            origin: dict[str, str] | None = None) -> None:
        """Store atomically; a failure to write the cache never fails the run."""
        text = json.dumps(finite({"key": key, "config": config, "origin": origin or {},
                                  "result": output.to_dict()}), sort_keys=True, allow_nan=False)
        try:
            atomic_write_text(self._path(key), text)
        except OSError:
            return
