"""Datasets from OpenML (Vanschoren et al. 2013) through scikit-learn's ``fetch_openml``.

The first load needs network access; sklearn then keeps a copy under ``cache_dir`` (default:
scikit-learn's data home, ``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``) and later loads
work offline. ``fetch_openml`` has no ``download_if_missing`` switch, so an offline run with an
empty cache fails inside sklearn; that failure becomes one DataError line saying where the cache
was looked for.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.error import URLError

import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import class_names_for, encode_labels
from dflbench.errors import ConfigError, DataError


def _data_home(cache_dir: str | None) -> str:
    """Where sklearn caches data, computed without creating it (mirrors get_data_home)."""
    if cache_dir is not None:
        return os.path.expanduser(str(cache_dir))
    return os.path.expanduser(
        os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    )


def _features_and_target(bunch: Any) -> tuple[pd.DataFrame, pd.Series]:
    y = getattr(bunch, "target", None)
    if y is None:
        raise DataError("has no default target; set target to the label column")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(
                f"has {y.shape[1]} target columns ({', '.join(map(str, y.columns))}); "
                "set target to one of them"
            )
        y = y.iloc[:, 0]
    y = pd.Series(y).reset_index(drop=True)
    X = getattr(bunch, "data", None)
    if not isinstance(X, pd.DataFrame):
        frame = getattr(bunch, "frame", None)
        if not isinstance(frame, pd.DataFrame):
            raise DataError("did not come back as a table (sparse data is not supported)")
        names = [str(n) for n in (getattr(bunch, "target_names", None) or [y.name])]
        X = frame.drop(columns=[c for c in frame.columns if str(c) in names])
    X = X.reset_index(drop=True)
    X.columns = [str(c) for c in X.columns]
    return X, y


@SOURCES.register("openml")
def load(
    name: str,
    *,
    data_id: int | None = None,
    version: int | str = "active",
    target: str | None = None,
    cache_dir: str | None = None,
) -> Dataset:
    """Load OpenML dataset ``data_id`` (or, without it, the dataset called ``name`` at
    ``version``); ``target`` overrides the dataset's default target column.

    Rows with a missing label are dropped (count in ``meta['dropped_missing_target']``); labels
    are numbered in sorted order of their values. Network failures with nothing cached raise
    DataError ("not in cache at ...").
    """
    if data_id is not None:
        if isinstance(data_id, bool) or not isinstance(data_id, int) or data_id < 1:
            raise ConfigError(f"openml: data_id must be a positive integer, got {data_id!r}")
        if version != "active":
            raise ConfigError("openml: version applies to a lookup by name; drop it with data_id")
    what = f"OpenML dataset {data_id}" if data_id is not None else f"OpenML dataset '{name}'"
    home = _data_home(cache_dir)
    import sklearn.datasets  # looked up at call time so tests can stand in for the network

    try:
        bunch = sklearn.datasets.fetch_openml(
            name=None if data_id is not None else name,
            version=version,
            data_id=data_id,
            data_home=cache_dir,
            target_column=target if target is not None else "default-target",
            as_frame=True,
        )
    except (URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"{what} is not in cache at {os.path.join(home, 'openml')} and could not be "
            f"downloaded ({reason}); run once with network access or pass cache_dir"
        ) from exc
    except (ValueError, KeyError) as exc:  # not found, bad target column, sparse as frame...
        raise DataError(f"{what}: {' '.join(str(exc).split())}") from exc

    try:
        X, y = _features_and_target(bunch)
    except DataError as exc:
        raise DataError(f"{what} {exc}") from None
    labelled = y.notna().to_numpy()
    dropped = int((~labelled).sum())
    X = X[labelled].reset_index(drop=True)
    y_codes, labels = encode_labels(y[labelled], what=f"target of {what}")
    details = getattr(bunch, "details", None) or {}
    title = details.get("name", name)
    ident = details.get("id", data_id)
    ident = int(ident) if isinstance(ident, str) and ident.isdigit() else ident
    ver = details.get("version", version)
    return Dataset(
        name=name,
        X=X,
        y=y_codes,
        class_names=class_names_for(labels),
        source="openml",
        description=f"OpenML {title} (id {ident}, version {ver}), via scikit-learn fetch_openml",
        meta={
            "labels": labels,
            "data_id": ident,
            "version": ver,
            "target": str(y.name) if y.name is not None else target,
            "dropped_missing_target": dropped,
            "cache_dir": home,
        },
    )
