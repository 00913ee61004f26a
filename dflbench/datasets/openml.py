"""Datasets from OpenML (Vanschoren et al. 2013) through scikit-learn's ``fetch_openml``.

Nothing is downloaded unless the suite says ``download: true``: by default a dataset is read from
scikit-learn's cache (``cache_dir``, default ``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``,
under ``openml/``) and a dataset not in it is one DataError line saying where the cache was
looked for. ``fetch_openml`` has no ``download_if_missing`` switch, so the offline load replaces
the one function scikit-learn downloads with (``urlopen`` of ``sklearn.datasets._openml``) for the
duration of the call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.error import URLError

import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import labelled_table, sklearn_data_home
from dflbench.errors import ConfigError, DataError
from dflbench.params import Rule, path_rule, short


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


def _check_lookup(data_id: int | None, version: int | str) -> None:
    """Refuse a ``data_id`` that is not a positive integer, or one given with a ``version``."""
    if data_id is not None:
        if isinstance(data_id, bool) or not isinstance(data_id, int) or data_id < 1:
            raise ConfigError(f"openml: data_id must be a positive integer, got {short(data_id)}")
        if version != "active":
            raise ConfigError("openml: version applies to a lookup by name; drop it with data_id")


class _NotCached(BaseException):
    """What the stand-in for scikit-learn's ``urlopen`` raises when downloads are off: not an
    Exception, so none of scikit-learn's retry wrappers (which catch Exception) retries, waits or
    warns; :func:`_fetch` turns it into a DataError."""


def _refuse_download(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise _NotCached(getattr(request, "full_url", str(request)))


@contextlib.contextmanager
def _offline(download: bool) -> Iterator[None]:
    """Downloads refused (unless ``download``) for the duration of one ``fetch_openml``."""
    import sklearn.datasets._openml as openml_module

    if download or not hasattr(openml_module, "urlopen"):
        yield
        return
    with mock.patch.object(openml_module, "urlopen", _refuse_download):
        yield


def _fetch(what: str, home: str, *, name: str | None, version: int | str, data_id: int | None,
           cache_dir: str | None, target: str | None, download: bool) -> Any:
    """sklearn's ``fetch_openml`` bunch, its failures turned into one DataError line each."""
    import sklearn.datasets  # looked up at call time so tests can stand in for the network

    where = os.path.join(home, "openml")
    try:
        with _offline(download):
            return sklearn.datasets.fetch_openml(
                name=name, version=version, data_id=data_id, data_home=cache_dir,
                target_column=target if target is not None else "default-target", as_frame=True)
    except _NotCached:
        raise DataError(
            f"{what} is not in the OpenML cache at {where} (downloads are off): add download: "
            "true to fetch it once, or copy an OpenML cache folder holding it there") from None
    except (URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"{what} is not in cache at {where} and could not be downloaded ({reason}); run "
            "again with network access, or point cache_dir at a cache that holds it"
        ) from exc
    except (ValueError, KeyError) as exc:  # not found, bad target column, sparse as frame...
        raise DataError(f"{what}: {' '.join(str(exc).split())}") from exc


@SOURCES.register("openml", rules={"cache_dir": path_rule("cache", nullable=True),
                                   "download": Rule(bool)})
def load(
    name: str,
    *,
    data_id: int | None = None,
    version: int | str = "active",
    target: str | None = None,
    cache_dir: str | None = None,
    download: bool = False,
) -> Dataset:
    """Load OpenML dataset ``data_id`` (or, without it, the dataset called ``name`` at
    ``version``); ``target`` overrides the dataset's default target column.

    Rows with a missing label are dropped (count in ``meta['dropped_missing_target']``); labels
    are numbered in sorted order of their values. Without ``download: true`` nothing is
    downloaded: a dataset not in the cache is a DataError saying where it was looked for; with
    it, a network failure with nothing cached is a DataError too.
    """
    _check_lookup(data_id, version)
    what = f"OpenML dataset {data_id}" if data_id is not None else f"OpenML dataset '{name}'"
    home = sklearn_data_home(cache_dir)
    bunch = _fetch(
        what,
        home,
        name=None if data_id is not None else name,
        version=version,
        data_id=data_id,
        cache_dir=cache_dir,
        target=target,
        download=download,
    )
    try:
        X, y = _features_and_target(bunch)
    except DataError as exc:
        raise DataError(f"{what} {exc}") from None
    labelled = y.notna().to_numpy()
    details = getattr(bunch, "details", None) or {}
    ident = details.get("id", data_id)
    ident = int(ident) if isinstance(ident, str) and ident.isdigit() else ident
    ver = details.get("version", version)
    return labelled_table(
        name,
        X[labelled].reset_index(drop=True),
        y[labelled],
        what=f"target of {what}",
        source="openml",
        description=f"OpenML {details.get('name', name)} (id {ident}, version {ver}), "
        "via scikit-learn fetch_openml",
        meta={
            "data_id": ident,
            "version": ver,
            "target": str(y.name) if y.name is not None else target,
            "dropped_missing_target": int((~labelled).sum()),
            "cache_dir": home,
        },
    )
