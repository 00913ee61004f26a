"""The task cache: each finished dataset task is stored under a key that hashes its fully resolved
configuration, the dflbench version and a fingerprint of dflbench's source code, so a rerun
(``--resume``, the default) computes only what is missing. Entries are JSON written atomically
(temporary file, then rename), so two runs sharing the folder never see half an entry; an
unreadable or mismatching entry is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dflbench import __version__
from dflbench.config import DatasetEntry, Suite
from dflbench.results import finite


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dflbench`` (``~/.cache/dflbench`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dflbench" / "tasks"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of dflbench's own source files: a changed trainer or loss never reuses old results,
    even in a development install whose version string has not moved."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def task_config(suite: Suite, entry: DatasetEntry, device: str) -> dict[str, Any]:
    """Everything a dataset task's result depends on."""
    full = suite.to_dict()
    dataset = next(d for d in full["datasets"] if d["name"] == entry.name)
    return {
        "dflbench_version": __version__,
        "code": code_fingerprint(),
        "dataset": dataset,
        "seeds": full["seeds"], "split_seed": full["split_seed"], "test_size": full["test_size"],
        "model": full["model"], "train": full["train"], "losses": full["losses"],
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

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored task result, or None if absent, unreadable or not for this key."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        result = data.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("rows"), list) \
                or not isinstance(result.get("info"), dict):
            return None
        return result

    def put(self, key: str, config: dict[str, Any], result: dict[str, Any]) -> None:
        """Store atomically; a failure to write the cache never fails the run."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(finite({"key": key, "config": config, "result": result}),
                              sort_keys=True, allow_nan=False)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.folder)
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self._path(key))
        except OSError:
            Path(tmp).unlink(missing_ok=True)
