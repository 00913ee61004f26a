"""Result files on disk: the versioned JSON that ``compare``, CI and users rely on.

Written with sorted keys and finite numbers only (a non-finite number becomes null), atomically
(:func:`dflbench.fsio.atomic_write_text`), so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
from pathlib import Path
from typing import Any

from dflbench.errors import ResultFileError
from dflbench.fsio import atomic_write_text
from dflbench.results.model import SuiteResult
from dflbench.results.schema import parse_result


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
        "python": platform.python_version(), "torch": torch.__version__,
        "numpy": numpy.__version__, "sklearn": sklearn.__version__,
        "imblearn": imblearn.__version__, "platform": platform.platform(),
        "device": device, "threads": threads,
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


def dumps_data(data: Any) -> str:
    """Canonical JSON of plain data: sorted keys, finite numbers, one space of indentation."""
    return json.dumps(finite(data), sort_keys=True, indent=1, allow_nan=False) + "\n"


def dumps(result: SuiteResult) -> str:
    return dumps_data(result.to_dict())


def write_result(result: SuiteResult, path: Path) -> Path:
    return atomic_write_text(path, dumps(result))


def default_path(suite_name: str, created: str) -> Path:
    """``results/<name>-<time>.json``; the name is reduced to safe characters, so a suite's
    ``name`` can never steer the file out of ``results/``."""
    stamp = created.replace("-", "").replace(":", "")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", suite_name).lstrip(".") or "suite"
    return Path("results") / f"{safe}-{stamp}.json"


def load_result(path: str | Path) -> SuiteResult:
    """Read, validate and migrate a result file; any problem is one ResultFileError line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultFileError(f"{path}: no such result file") from None
    except IsADirectoryError:
        raise ResultFileError(f"{path}: is a folder, not a result file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg});"
            " the file may be truncated") from None
    except RecursionError:
        raise ResultFileError(f"{path}: nested too deeply to be a result file") from None
    return parse_result(data, str(path))
