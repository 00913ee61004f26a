from __future__ import annotations

import numpy as np
import pytest

from dflbench.datasets import SOURCES
from dflbench.errors import ConfigError

EXPECTED = {
    # name: (rows, features, class counts, first class name)
    "iris": (150, 4, [50, 50, 50], "setosa"),
    "wine": (178, 13, [59, 71, 48], "class_0"),
    "breast_cancer": (569, 30, [212, 357], "malignant"),
    "digits": (1797, 64, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180], "0"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled(name, valid_dataset):
    rows, features, counts, first = EXPECTED[name]
    ds = SOURCES.get("sklearn")(name)
    valid_dataset(ds, source="sklearn", n_classes=len(counts))
    assert ds.name == name
    assert ds.X.shape == (rows, features)
    assert np.bincount(ds.y).tolist() == counts
    assert ds.class_names[0] == first
    assert ds.meta["labels"] == list(range(len(counts)))


def test_digits_class_names_are_digits():
    ds = SOURCES.get("sklearn")("digits")
    assert ds.class_names == tuple(str(d) for d in range(10))
    assert ds.X.to_numpy().max() == 16.0


def test_unknown_name_suggests():
    with pytest.raises(ConfigError) as err:
        SOURCES.get("sklearn")("breast-cancer")
    msg = str(err.value)
    assert "unknown sklearn dataset 'breast-cancer'; did you mean 'breast_cancer'?" in msg
    assert "valid: breast_cancer, digits, iris, wine" in msg
