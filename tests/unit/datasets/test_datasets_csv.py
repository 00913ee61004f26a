"""The csv source, with small files written per test."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from dflbench.datasets import SOURCES
from dflbench.errors import ConfigError, DataError

load = SOURCES.get("csv")

TABLE = """age,color,smoker,score,label
34,red,True,1.5,no
51,blue,False,,yes
,red,True,2.5,no
29,?,False,3.0,maybe
45,green,True,0.5,
62,blue,False,4.5,yes
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(TABLE)
    return path


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_mixed_columns_kept_for_preprocessing(table, valid_dataset):
    ds = load("people", path=str(table), target="label")
    valid_dataset(ds, source="csv", n_classes=3)
    assert ds.class_names == ("maybe", "no", "yes")  # sorted original labels
    assert ds.y.tolist() == [1, 2, 1, 0, 2]
    assert ds.meta["dropped_missing_target"] == 1 and ds.meta["rows_read"] == 6
    assert list(ds.X.columns) == ["age", "color", "smoker", "score"]
    assert ds.meta["numeric_columns"] == ["age", "score"]
    assert ds.meta["categorical_columns"] == ["color", "smoker"]
    assert pd.api.types.is_numeric_dtype(ds.X["age"])
    assert pd.api.types.is_bool_dtype(ds.X["smoker"])
    # Missing values stay for the preprocessor to impute; '?' counts as missing.
    assert ds.X.isna().sum().to_dict() == {"age": 1, "color": 1, "smoker": 0, "score": 1}
    assert ds.meta["missing_values"] == {"age": 1, "color": 1, "score": 1}
    assert ds.meta["labels"] == ["maybe", "no", "yes"]
    assert "people.csv" in ds.description


def test_missing_drop(table):
    ds = load("people", path=str(table), target="label", missing="drop")
    assert len(ds.X) == 2 and not ds.X.isna().any().any()
    assert ds.meta["dropped_missing_features"] == 3
    assert ds.class_names == ("no", "yes")


def test_missing_error_names_columns(table):
    with pytest.raises(
        DataError, match=r"people.csv has missing values in age \(1\), color \(1\), score \(1\)"
    ):
        load("people", path=str(table), target="label", missing="error")


def test_missing_policy_unknown(table):
    with pytest.raises(ConfigError, match="did you mean 'impute'"):
        load("people", path=str(table), target="label", missing="imput")


def test_drop_columns_and_numeric_labels(tmp_path):
    path = write(
        tmp_path, "id\ta\tb\tcls\n1\t0.1\tx\t3\n2\t0.2\ty\t1\n3\t0.3\tx\t3\n4\t0.4\ty\t2\n"
    )
    ds = load("t", path=str(path), target="cls", sep="\t", drop=["id"])
    assert list(ds.X.columns) == ["a", "b"]
    assert ds.class_names == ("1", "2", "3") and ds.y.tolist() == [2, 0, 2, 1]
    assert ds.meta["labels"] == [1, 2, 3]


def test_float_labels_with_gap_become_ints(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n3,\n4,1\n")
    ds = load("t", path=str(path), target="y")
    assert ds.class_names == ("0", "1") and ds.meta["labels"] == [0, 1]


def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match=r"csv file .*nope.csv not found"):
        load("x", path=str(tmp_path / "nope.csv"), target="y")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load("x", path=str(tmp_path), target="y")


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match=r"e.csv is empty"):
        load("x", path=str(write(tmp_path, "", "e.csv")), target="y")


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="header but no data rows"):
        load("x", path=str(write(tmp_path, "a,y\n")), target="y")


def test_unparseable(tmp_path):
    with pytest.raises(DataError, match=r"cannot read csv file .*d.csv: ParserError"):
        load("x", path=str(write(tmp_path, 'a,y\n1,"unterminated\n')), target="y")


def test_undecodable(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,y\n\xff\xfe\x00\x81,1\n")
    with pytest.raises(DataError, match=r"cannot read csv file .*bin.csv: UnicodeDecodeError"):
        load("x", path=str(path), target="y")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable(table):
    table.chmod(0)
    try:
        with pytest.raises(DataError, match="cannot read csv file .*people.csv: PermissionError"):
            load("x", path=str(table), target="label")
    finally:
        table.chmod(0o644)


def test_target_absent_lists_columns(table):
    with pytest.raises(DataError) as err:
        load("x", path=str(table), target="lable")
    msg = str(err.value)
    assert "people.csv has no target column 'lable'; did you mean 'label'?" in msg
    assert "(columns: age, color, smoker, score, label)" in msg


def test_target_given_as_class_name(table):
    with pytest.raises(DataError, match=r"'maybe' is a value \(class name\?\) in column 'label'"):
        load("x", path=str(table), target="maybe")


def test_wrong_separator_hint(tmp_path):
    path = write(tmp_path, "a;b;y\n1;2;0\n3;4;1\n")
    with pytest.raises(DataError, match="single column: is sep ',' right"):
        load("x", path=str(path), target="y")


def test_single_class(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,cat\n3,\n")
    with pytest.raises(
        DataError, match=r"target 'y' in csv file .*d.csv has 1 class \('cat'\); need at least 2"
    ):
        load("x", path=str(path), target="y")


def test_no_labels(tmp_path):
    with pytest.raises(DataError, match="target column 'y' has no values"):
        load("x", path=str(write(tmp_path, "a,y\n1,\n2,\n")), target="y")


def test_regression_target(tmp_path):
    with pytest.raises(DataError, match=r"non-integer numbers \(e.g. 0.5\)"):
        load("x", path=str(write(tmp_path, "a,y\n1,0.5\n2,1.25\n")), target="y")


def test_drop_unknown_column(table):
    with pytest.raises(
        DataError, match=r"people.csv: cannot drop: unknown column 'colour'; did you mean 'color'"
    ):
        load("x", path=str(table), target="label", drop=["colour"])


def test_drop_target(table):
    with pytest.raises(ConfigError, match="drop lists the target column 'label'"):
        load("x", path=str(table), target="label", drop=["label"])


def test_drop_everything_but_target(table):
    with pytest.raises(DataError, match="no feature columns"):
        load("x", path=str(table), target="label", drop=["age", "color", "smoker", "score"])


def test_missing_drop_leaves_nothing(tmp_path):
    path = write(tmp_path, "a,b,y\n1,,0\n,2,1\n")
    with pytest.raises(DataError, match="every row has a missing value"):
        load("x", path=str(path), target="y", missing="drop")


def test_missing_drop_can_leave_one_class(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n,1\n3,0\n")
    with pytest.raises(DataError, match="1 class"):
        load("x", path=str(path), target="y", missing="drop")


def test_labels_are_stable_and_ints(table):
    a, b = (load("people", path=str(table), target="label") for _ in range(2))
    assert a.y.dtype == np.int64 and np.array_equal(a.y, b.y)
    assert a.class_names == b.class_names == ("maybe", "no", "yes")  # sorted label values


def test_os_error_while_reading(table, monkeypatch):
    # The chmod test above is skipped as root; exercise the same path by failing the read.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pd, "read_csv", refuse)
    with pytest.raises(DataError, match=r"cannot read csv file .*people.csv: PermissionError"):
        load("x", path=str(table), target="label")
