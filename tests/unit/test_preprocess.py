from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dflbench.errors import DataError
from dflbench.preprocess import Preprocessor


def table():
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, np.nan, 50.0, 1000.0, 2000.0],
            "const": [7, 7, 7, 7, 7, 7],
            "color": pd.Series(["red", "blue", None, "red", "green", "green"], dtype="str"),
            "flag": [True, False, True, True, False, False],
        }
    )


def test_fit_on_train_only_no_leak():
    df = table()
    train, test = df.iloc[:4], df.iloc[4:]
    pre = Preprocessor().fit(train)
    scaler = pre.column_transformer_.named_transformers_["num"].named_steps["scale"]
    imputer = pre.column_transformer_.named_transformers_["num"].named_steps["impute"]
    # median of age over train rows is 30 (NaN imputed before scaling), never the test's values
    train_age = np.array([20.0, 30.0, 30.0, 50.0])
    assert imputer.statistics_[0] == 30.0
    assert scaler.mean_[0] == pytest.approx(train_age.mean())
    assert scaler.mean_[0] != pytest.approx(df["age"].fillna(df["age"].median()).mean())
    out = pre.transform(test)
    assert out[0, 0] == pytest.approx((1000.0 - train_age.mean()) / train_age.std())
    # test categories green never seen in train: all-zero one-hot block
    assert "color_green" not in pre.feature_names_out
    cols = [i for i, n in enumerate(pre.feature_names_out) if n.startswith("color_")]
    green = (test["color"] == "green").to_numpy()
    assert green.any() and np.all(out[green][:, cols] == 0)


def test_output_float32_finite_and_named():
    pre = Preprocessor()
    out = pre.fit_transform(table())
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert pre.feature_names_out == (
        "age",
        "const",
        "color_blue",
        "color_green",
        "color_red",
        "flag_False",
        "flag_True",
    )
    assert out.shape == (6, len(pre.feature_names_out))
    assert pre.numeric_columns == ["age", "const"] and pre.categorical_columns == ["color", "flag"]
    # the constant column standardizes to 0, not NaN
    assert np.all(out[:, 1] == 0.0)
    # missing color imputed with the most frequent training category (green/red tie -> first sorted)
    assert out[2, 2:5].tolist() == [0.0, 1.0, 0.0]  # color_blue, color_green, color_red


def test_unseen_category_is_all_zero():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    test = pd.DataFrame({"x": [1.0], "c": ["zzz"]})
    pre = Preprocessor().fit(train)
    out = pre.transform(test)
    assert pre.feature_names_out == ("x", "c_a", "c_b")
    assert out[0, 1:].tolist() == [0.0, 0.0]


def test_infinities_and_all_missing_columns_stay_finite():
    train = pd.DataFrame(
        {"x": [1.0, np.inf, 3.0], "empty": [np.nan] * 3, "n": pd.array([1, None, 3], dtype="Int64")}
    )
    out = Preprocessor().fit_transform(train)
    assert np.isfinite(out).all()


def test_numpy_input():
    X = np.array([[1.0, 10.0], [3.0, 10.0]])
    pre = Preprocessor().fit(X)
    assert pre.feature_names_out == ("x0", "x1")
    assert pre.transform(X).tolist() == [[-1.0, 0.0], [1.0, 0.0]]


def test_errors():
    with pytest.raises(DataError, match="2-D table"):
        Preprocessor().fit(np.zeros((4, 1, 8, 8)))
    pre = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
    with pytest.raises(DataError, match="missing: b"):
        pre.transform(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(RuntimeError, match="before fit"):
        Preprocessor().transform(pd.DataFrame({"a": [1.0]}))


def test_image_standardizer_uses_training_statistics_per_channel():
    from dflbench.preprocess import ImageStandardizer, preprocessor_for

    rng = np.random.default_rng(0)
    train = rng.random((20, 2, 4, 4)).astype(np.float32)
    train[:, 1] = 0.5  # a constant channel
    test = rng.random((5, 2, 4, 4)).astype(np.float32) + 3.0
    scaler = preprocessor_for("image").fit(train)
    assert isinstance(scaler, ImageStandardizer)
    out = scaler.transform(train)
    assert out.dtype == np.float32 and out.shape == train.shape
    np.testing.assert_allclose(out[:, 0].mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(out[:, 0].std(), 1.0, atol=1e-4)
    assert np.all(out[:, 1] == 0.0)
    assert scaler.transform(test)[:, 0].mean() > 2.0  # test statistics never used
