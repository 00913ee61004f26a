"""Tabular preprocessing, fitted on the training split only so no test statistic leaks.

Numeric columns: median imputation, then standardization. Categorical columns (text, category,
bool): most-frequent imputation, then one-hot encoding that ignores categories unseen in training
(an all-zero block). Output is a float32 array ready for the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from dflbench.errors import DataError


def is_categorical(col: pd.Series) -> bool:
    """Text, category and bool columns are categorical; other numeric columns are numeric."""
    return (
        pd.api.types.is_bool_dtype(col)
        or isinstance(col.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(col)
        or pd.api.types.is_string_dtype(col)
    )


def _as_frame(X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        out = X.copy()
        out.columns = [str(c) for c in out.columns]
        return out
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(
            f"the tabular preprocessor takes a 2-D table, got an array of shape {arr.shape}"
        )
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


class Preprocessor:
    """Impute, scale and one-hot encode a table; ``fit`` on training rows, then ``transform`` any.

    Attributes after ``fit``: ``numeric_columns``, ``categorical_columns``,
    ``feature_names_out`` and ``column_transformer_`` (the fitted sklearn ColumnTransformer).
    Constant columns scale to 0 (StandardScaler leaves a zero variance unscaled) and infinities
    count as missing, so the output is always finite.
    """

    def __init__(self) -> None:
        self.numeric_columns: list[str] = []
        self.categorical_columns: list[str] = []
        self.column_transformer_: ColumnTransformer | None = None
        self._columns: list[str] = []

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> Preprocessor:
        frame = _as_frame(X)
        if frame.shape[1] == 0:
            raise DataError("the table has no feature columns")
        if frame.shape[0] == 0:
            raise DataError("cannot fit the preprocessor on zero rows")
        self._columns = list(frame.columns)
        self.categorical_columns = [c for c in frame.columns if is_categorical(frame[c])]
        self.numeric_columns = [c for c in frame.columns if c not in self.categorical_columns]
        unsupported = [
            c for c in self.numeric_columns if not pd.api.types.is_numeric_dtype(frame[c])
        ]
        if unsupported:
            raise DataError(f"columns {', '.join(unsupported)} are neither numeric nor categorical")
        numeric = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
                (
                    "onehot",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                ),
            ]
        )
        transformers = []
        if self.numeric_columns:
            transformers.append(("num", numeric, self.numeric_columns))
        if self.categorical_columns:
            transformers.append(("cat", categorical, self.categorical_columns))
        ct = ColumnTransformer(
            transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False
        )
        try:
            ct.fit(self._prepare(frame))
            names = ct.get_feature_names_out()
        except ValueError:  # output names collide ("a_b" numeric and "a" == "b"): prefix them
            ct.set_params(verbose_feature_names_out=True)
            ct.fit(self._prepare(frame))
            names = ct.get_feature_names_out()
        self.column_transformer_ = ct
        self.feature_names_out: tuple[str, ...] = tuple(str(n) for n in names)
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        if self.column_transformer_ is None:
            raise RuntimeError("Preprocessor.transform called before fit")
        frame = _as_frame(X)
        missing = [c for c in self._columns if c not in frame.columns]
        if missing:
            raise DataError(f"columns seen in training are missing: {', '.join(missing)}")
        out = np.asarray(self.column_transformer_.transform(self._prepare(frame)), dtype=np.float64)
        if not np.all(np.isfinite(out)):
            bad = sorted(
                {self.feature_names_out[j] for j in np.flatnonzero(~np.isfinite(out).all(0))}
            )
            raise DataError(f"preprocessing produced non-finite values in {', '.join(bad)}")
        return out.astype(np.float32)

    def fit_transform(self, X: pd.DataFrame | np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def _prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numeric columns as float64 with inf -> NaN; categorical columns as strings (object
        dtype, NaN for missing) so bools, numbers-as-text and pandas' string dtype mix cleanly."""
        out = pd.DataFrame(index=frame.index)
        for c in self.numeric_columns:
            col = frame[c].astype("float64")
            out[c] = col.where(np.isfinite(col.to_numpy()), np.nan)
        for c in self.categorical_columns:
            col = frame[c].astype(object)
            out[c] = col.map(str).where(col.notna(), np.nan).astype(object)
        return out


class ImageStandardizer:
    """Per-channel standardization of (N, C, H, W) images, statistics from training images only."""

    def fit(self, X: np.ndarray, y: object = None) -> ImageStandardizer:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 4:
            raise DataError(f"images must be (N, channels, H, W), got shape {arr.shape}")
        self.mean_ = arr.mean(axis=(0, 2, 3), keepdims=True)[0]
        std = arr.std(axis=(0, 2, 3), keepdims=True)[0]
        self.std_ = np.where(std > 0, std, 1.0)  # a constant channel maps to 0, not NaN
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.std_).astype(np.float32)


def preprocessor_for(kind: str) -> Preprocessor | ImageStandardizer:
    """The preprocessing that suits a dataset ``kind`` ("tabular", or images: "image",
    "segmentation")."""
    return ImageStandardizer() if kind in ("image", "segmentation") else Preprocessor()
