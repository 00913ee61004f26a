"""Parameter validation: one error shape naming the loss, the parameter and its valid range."""

from __future__ import annotations

import pytest

from dflbench.errors import ConfigError
from dflbench.losses import get_loss

COUNTS = [1000, 100, 10]

INVALID = [
    ("focal", "gamma", -1.0, r">= 0"),
    ("dual_focal", "gamma", -0.5, r">= 0"),
    ("dual_focal", "theta", 0.0, r"in \(0, 1\)"),
    ("dual_focal", "theta", 1.0, r"in \(0, 1\)"),
    ("dual_focal", "rho", 0.0, r"> 0"),
    ("dual_focal", "alpha", -1.0, r">= 0"),
    ("dual_focal", "beta", -1.0, r">= 0"),
    ("dual_ce", "alpha", 0.0, r"> 0"),
    ("dual_ce", "beta", -1.0, r">= 0"),
    ("logit_adjusted", "tau", 0.0, r"> 0"),
    ("ldam", "s", -30.0, r"> 0"),
    ("ldam", "max_m", 0.0, r"> 0"),
    ("poly1", "epsilon", -2.0, r">= -1"),
    ("dual_focal_calibration", "gamma", -1.0, r">= 0"),
    ("weighted_ce", "beta", 1.0, r"in \[0, 1\)"),
    ("focal", "gamma", float("inf"), "a number >= 0"),
    ("focal", "gamma", "2", "a number >= 0"),
    ("focal", "gamma", True, "a number >= 0"),
    ("dual_focal", "gamma", None, "a number >= 0"),
]


@pytest.mark.parametrize(
    ("name", "param", "value", "rule"), INVALID, ids=[f"{n}-{p}={v!r}" for n, p, v, _ in INVALID]
)
def test_invalid_values_name_the_loss_parameter_and_rule(name, param, value, rule):
    params = {param: value}
    if name == "weighted_ce":
        params["weights"] = "effective"
    with pytest.raises(ConfigError,
                       match=rf"loss '{name}': parameter '{param}': .* is invalid \(expected .*{rule}"):
        get_loss(name, class_counts=COUNTS, **params)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("focal", {"gamma": 0}),
        ("dual_focal", {"gamma": 2, "theta": 1e-6, "rho": 1.5}),
        ("dual_ce", {"alpha": 0.5, "beta": 0}),
        ("poly1", {"epsilon": -1}),
        ("logit_adjusted", {"tau": 2}),
        ("ldam", {"max_m": 1, "s": 1, "drw_start": 0.5}),
    ],
)
def test_boundary_and_integer_values_are_accepted(name, params):
    loss = get_loss(name, class_counts=COUNTS, **params)
    for key, value in params.items():
        if hasattr(loss, key):
            assert getattr(loss, key) == value


@pytest.mark.parametrize("counts", [[10, 0, 5], [10, -1, 5]])
@pytest.mark.parametrize("name", ["balanced_softmax", "logit_adjusted", "ldam", "weighted_ce"])
def test_non_positive_class_counts_are_rejected(name, counts):
    with pytest.raises(ConfigError, match=rf"loss '{name}': class_counts must all be positive"):
        get_loss(name, class_counts=counts)


def test_unknown_loss_has_a_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'dual_focal'"):
        get_loss("dual_focl")


def test_a_number_yaml_1_1_reads_as_a_string_is_taken_as_the_number():
    """PyYAML reads ``gamma: 1e0`` as the string '1e0'; the user typed a number."""
    import yaml

    assert yaml.safe_load("gamma: 1e0") == {"gamma": "1e0"}
    assert get_loss("focal", gamma=yaml.safe_load("gamma: 1e0")["gamma"]).gamma == 1.0
