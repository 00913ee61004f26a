"""The 27 imbalanced benchmark datasets of imbalanced-learn (Ding 2011, hosted on Zenodo),
through ``imblearn.datasets.fetch_datasets``.

imbalanced-learn keeps them as ``<cache_dir>/zenodo/x<ID>data.npz`` (arrays ``data`` and
``label``, labels -1/1). Nothing downloads unless ``download: true``; with an empty cache the
load is one DataError line saying where the file was expected.
"""

from __future__ import annotations

import os
from urllib.error import URLError

import numpy as np
import pandas as pd

from dflbench.datasets import SOURCES, Dataset
from dflbench.datasets._common import (
    class_names_for,
    encode_labels,
    normalize_name,
    sklearn_data_home,
)
from dflbench.errors import ConfigError, DataError, unknown
from dflbench.params import path_rule, short

#: The Zenodo record's datasets in ID order (ID = position + 1), as in imblearn's
#: ``fetch_datasets`` docstring. The record is frozen, so this list is too.
NAMES = (
    "ecoli", "optical_digits", "satimage", "pen_digits", "abalone", "sick_euthyroid",
    "spectrometer", "car_eval_34", "isolet", "us_crime", "yeast_ml8", "scene", "libras_move",
    "thyroid_sick", "coil_2000", "arrhythmia", "solar_flare_m0", "oil", "car_eval_4",
    "wine_quality", "letter_img", "yeast_me2", "webpage", "ozone_level", "mammography",
    "protein_homo", "abalone_19",
)  # fmt: skip


def cache_file(name: str, cache_dir: str | None = None) -> str:
    """The file imbalanced-learn reads for dataset ``name`` (canonical name)."""
    file = f"x{NAMES.index(name) + 1}data.npz"
    return os.path.join(sklearn_data_home(cache_dir), "zenodo", file)


@SOURCES.register("imblearn", rules={"cache_dir": path_rule("cache", nullable=True)})
def load(name: str, *, cache_dir: str | None = None, download: bool = False) -> Dataset:
    """Load imbalanced-learn benchmark set ``name`` (e.g. ``ecoli``, ``abalone_19``; dashes and
    underscores interchangeable) from ``cache_dir`` (default: scikit-learn's data home).

    ``download: true`` lets imbalanced-learn fetch the whole Zenodo archive (about 100 MB) into
    the cache when the file is missing. Class 0 is the majority ("negative", label -1) and class 1
    the minority ("positive", label 1).
    """
    key = normalize_name(name)
    if key not in NAMES:
        message = unknown("imblearn dataset", key, NAMES).replace(f"'{key}'", f"'{name}'", 1)
        raise ConfigError(message)
    if not isinstance(download, bool):
        raise ConfigError(f"imblearn: download must be true or false, got {short(download)}")
    from imblearn.datasets import fetch_datasets

    expected = cache_file(key, cache_dir)
    try:
        bunch = fetch_datasets(
            data_home=None if cache_dir is None else sklearn_data_home(cache_dir),
            filter_data=(key,),
            download_if_missing=download,
        )[key]
    except (URLError, OSError, TimeoutError) as exc:
        if not download:
            raise DataError(
                f"imblearn dataset '{name}' is not in cache at {expected}; pass download: true "
                "to fetch it once, or point cache_dir at a populated cache"
            ) from None
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"imblearn dataset '{name}' could not be downloaded into {expected} ({reason})"
        ) from exc
    except (ValueError, KeyError) as exc:  # a corrupt or foreign .npz
        raise DataError(f"imblearn dataset '{name}' at {expected} is unreadable: {exc}") from exc

    data = np.asarray(bunch.data)
    if data.ndim != 2 or data.shape[0] != len(bunch.target):
        raise DataError(
            f"imblearn dataset '{name}' at {expected} is malformed: data {data.shape}, "
            f"{len(bunch.target)} labels"
        )
    y, labels = encode_labels(np.asarray(bunch.target), what=f"imblearn dataset '{name}' labels")
    names = ("negative", "positive") if labels == [-1, 1] else class_names_for(labels)
    X = pd.DataFrame(data.astype(np.float64), columns=[f"x{i}" for i in range(data.shape[1])])
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=names,
        source="imblearn",
        description=f"imbalanced-learn Zenodo benchmark {key} (Ding 2011)",
        meta={"labels": labels, "imblearn_name": key, "file": expected},
    )
