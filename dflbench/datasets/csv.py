"""Your own tabular data from a delimited text file (CSV, TSV, ...).

Numeric columns stay numeric and text/category/bool columns stay categorical; the preprocessor
(fitted on the training split only) imputes, scales and one-hot encodes them. Cells that are
empty, ``NA``/``NaN``-like (pandas' defaults) or ``?`` (the UCI/KEEL convention) are missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import labelled_table
from dflbench.errors import ConfigError, DataError, did_you_mean, unknown
from dflbench.params import path_rule, short

# One rule for what counts as categorical, shared with the preprocessor that encodes it.
from dflbench.preprocess import is_categorical as _is_categorical

MISSING_POLICIES = ("impute", "drop", "error")
_NA_VALUES = ["?"]


def _read(path: Path, sep: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"csv file {path} not found")
    if path.is_dir():
        raise DataError(f"csv file {path} is a directory, not a file")
    try:
        df = pd.read_csv(path, sep=sep, na_values=_NA_VALUES)
    except pd.errors.EmptyDataError:
        raise DataError(f"csv file {path} is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"cannot read csv file {path}: {type(exc).__name__}: {reason}") from exc
    if df.shape[0] == 0:
        raise DataError(f"csv file {path} has a header but no data rows")
    df.columns = [str(c) for c in df.columns]
    return df


def _target_hint(df: pd.DataFrame, target: str) -> str:
    """When ``target`` is a value in some column rather than a column name, say so."""
    for col in df.columns:
        if _is_categorical(df[col]) and (df[col].astype(str) == target).any():
            return f"; '{target}' is a value (class name?) in column '{col}', not a column"
    return ""


def _check_options(target: str, drop: list[str] | None, missing: str) -> None:
    """Refuse a missing-value policy, target or drop list that cannot be right for any file."""
    if missing not in MISSING_POLICIES:
        raise ConfigError(unknown("csv missing-value policy", missing, MISSING_POLICIES))
    if not isinstance(target, str) or not target:
        raise ConfigError(f"csv: target must be a column name, got {short(target)}")
    if drop is not None and (isinstance(drop, str) or not all(isinstance(c, str) for c in drop)):
        raise ConfigError(f"csv: drop must be a list of column names, got {short(drop)}")


def _check_target(df: pd.DataFrame, file: Path, target: str, sep: str, fmt: str = "csv") -> None:
    """Refuse a file without the ``target`` column, saying what the name might have meant."""
    columns = list(df.columns)
    if target not in df.columns:
        hint = _target_hint(df, target) or did_you_mean(target, columns)
        if len(columns) == 1 and sep:
            hint += f"; the file parsed as a single column: is sep {sep!r} right?"
        raise DataError(
            f"{fmt} file {file} has no target column '{target}'{hint} (columns: {', '.join(columns)})"
        )


def _features(df: pd.DataFrame, file: Path, target: str, drop: list[str], fmt: str = "csv") -> list[str]:
    """The feature columns left once ``drop`` and the target are set aside, each one usable."""
    columns = list(df.columns)
    for col in drop:
        if col == target:
            raise ConfigError(f"csv: drop lists the target column '{target}'")
        if col not in df.columns:
            raise DataError(f"{fmt} file {file}: cannot drop: " + unknown("column", col, columns))
    features = [c for c in df.columns if c != target and c not in drop]
    if not features:
        raise DataError(f"{fmt} file {file} has no feature columns besides target '{target}'")
    unsupported = [
        c for c in features if not (_is_categorical(df[c]) or pd.api.types.is_numeric_dtype(df[c]))
    ]
    if unsupported:
        raise DataError(
            f"{fmt} file {file}: columns {', '.join(unsupported)} are neither numeric nor "
            "categorical; list them under drop"
        )
    return features


def _drop_unlabelled(df: pd.DataFrame, file: Path, target: str, fmt: str = "csv") -> tuple[pd.DataFrame, int]:
    """The rows that have a label, and how many did not."""
    labelled = df[df[target].notna()]
    if len(labelled) == 0:
        raise DataError(f"{fmt} file {file}: target column '{target}' has no values")
    return labelled, int(len(df) - len(labelled))


def _apply_missing(
    df: pd.DataFrame, file: Path, features: list[str], missing: str, fmt: str = "csv"
) -> tuple[pd.DataFrame, int]:
    """The rows the ``missing`` policy keeps for missing feature values, and the number dropped."""
    holes = df[features].isna().sum()
    holes = holes[holes > 0]
    if len(holes) and missing == "error":
        listed = ", ".join(f"{c} ({int(n)})" for c, n in holes.items())
        raise DataError(
            f"{fmt} file {file} has missing values in {listed}; set missing: impute or drop"
        )
    if not (len(holes) and missing == "drop"):
        return df, 0
    complete = df[features].notna().all(axis=1)
    df = df[complete]
    if len(df) == 0:
        raise DataError(f"{fmt} file {file}: every row has a missing value (missing: drop)")
    return df, int((~complete).sum())


@SOURCES.register("csv", rules={"path": path_rule("file")})
def load(
    name: str,
    *,
    path: str,
    target: str,
    sep: str = ",",
    drop: list[str] | None = None,
    missing: str = "impute",
) -> Dataset:
    """Load a delimited file; ``target`` names the label column, ``drop`` lists columns to ignore.

    ``missing`` decides what happens to missing feature values: ``impute`` keeps them for the
    preprocessor (median / most frequent, fitted on train only), ``drop`` removes those rows,
    ``error`` refuses the file naming the columns. Rows with a missing label are always dropped
    (their number is in ``meta['dropped_missing_target']``). Labels are numbered in sorted order
    of their values; whole-number floats count as integers; other floats are refused as a
    regression target. Every problem with the file is one DataError line that names it.
    """
    _check_options(target, drop, missing)
    file = Path(os.path.expanduser(str(path)))
    return table_dataset(name, _read(file, sep), file, target, drop, missing, "csv", sep)


def table_dataset(name: str, df: pd.DataFrame, file: Path, target: str, drop: list[str] | None,
                  missing: str, fmt: str, sep: str = "") -> Dataset:
    """A dataset from a table read from ``file`` (of format ``fmt``, named in every message):
    its target, features, missing-value policy and labels, as :func:`load` documents."""
    _check_target(df, file, target, sep, fmt)
    features = _features(df, file, target, list(drop or []), fmt)
    n_read = len(df)
    df, dropped_target = _drop_unlabelled(df, file, target, fmt)
    df, dropped_features = _apply_missing(df, file, features, missing, fmt)
    X = df[features].reset_index(drop=True)
    return labelled_table(
        name,
        X,
        df[target],
        what=f"target '{target}' in {fmt} file {file}",
        source=fmt,
        description=f"{file.name} (target '{target}'), local {fmt} file",
        meta={
            "path": str(file.resolve()),
            "target": target,
            "rows_read": n_read,
            "dropped_missing_target": dropped_target,
            "dropped_missing_features": dropped_features,
            "missing": missing,
            "numeric_columns": [c for c in features if not _is_categorical(X[c])],
            "categorical_columns": [c for c in features if _is_categorical(X[c])],
            "missing_values": {c: int(n) for c, n in X.isna().sum().items() if n > 0},
        },
    )
