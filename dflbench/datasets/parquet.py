"""Your own tabular data from a Parquet file: the same keys and rules as ``csv`` (``target``,
``drop``, ``missing``), read with pandas through pyarrow (the ``dflbench[parquet]`` extra)."""

from __future__ import annotations

import os
from pathlib import Path

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets.csv import _check_options, table_dataset
from dflbench.errors import ConfigError, DataError
from dflbench.params import path_rule


def _read(file: Path):  # -> pd.DataFrame
    import pandas as pd

    try:
        import pyarrow  # noqa: F401  (pandas reads Parquet through it)
    except ImportError:
        raise ConfigError("dataset source 'parquet' needs pyarrow: install dflbench[parquet]") from None
    if not file.exists():
        raise DataError(f"parquet file {file} not found")
    if file.is_dir():
        raise DataError(f"parquet file {file} is a directory, not a file")
    try:
        df = pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises its own error types for a damaged file
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"cannot read parquet file {file}: {type(exc).__name__}: {reason}") from None
    if df.shape[0] == 0:
        raise DataError(f"parquet file {file} has no rows")
    df.columns = [str(c) for c in df.columns]
    return df


@SOURCES.register("parquet", rules={"path": path_rule("file")})
def load(
    name: str,
    *,
    path: str,
    target: str,
    drop: list[str] | None = None,
    missing: str = "impute",
) -> Dataset:
    """Load a Parquet file; ``target`` names the label column, ``drop`` lists columns to ignore,
    ``missing`` is ``impute``, ``drop`` or ``error`` (as for ``csv``). Every problem with the
    file is one DataError line that names it."""
    _check_options(target, drop, missing)
    file = Path(os.path.expanduser(str(path)))
    return table_dataset(name, _read(file), file, target, drop, missing, "parquet")
