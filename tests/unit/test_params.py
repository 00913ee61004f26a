"""Parameter rules: one mechanism, one error shape, and every registry's rules fit its entries."""

from __future__ import annotations

import inspect

import pytest

from dflbench.errors import ConfigError
from dflbench.params import FRACTION, POSITIVE_INT, Rule, choices


@pytest.mark.parametrize(("rule", "text"), [
    (POSITIVE_INT, "an integer >= 1"),
    (FRACTION, "a number in (0, 1)"),
    (Rule(float, ge=0, lt=1), "a number in [0, 1)"),
    (Rule(float, gt=0), "a number > 0"),
    (Rule(float, ge=0, nullable=True), "a number >= 0 or null"),
    (choices(["adam", "sgd"]), "one of adam, sgd"),
    (Rule(list, items=POSITIVE_INT, min_len=1), "a non-empty list of integers >= 1"),
    (Rule(list, items=choices(["a", "b"])), "a list, each one of a, b"),
    (Rule(str, min_len=1), "a non-empty string"),
])
def test_describe(rule: Rule, text: str):
    assert rule.describe() == text


@pytest.mark.parametrize(("rule", "value", "expected"), [
    (Rule(float, gt=0), 2, 2.0),
    (Rule(float, gt=0), "1e-3", 0.001),  # YAML 1.1 reads 1e-3 as a string
    (Rule(float, gt=0), "1.0e3", 1000.0),
    (Rule(float, ge=0, nullable=True), None, None),
    (Rule(list, items=POSITIVE_INT), (4, 8), [4, 8]),
    (Rule(bool), False, False),
])
def test_valid_values_are_returned_as_their_kind(rule: Rule, value, expected):
    out = rule.check(value, "k")
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(("rule", "value", "message"), [
    (POSITIVE_INT, 0, "k: 0 is invalid (expected an integer >= 1)"),
    (POSITIVE_INT, True, "k: True is invalid (expected an integer >= 1)"),
    (POSITIVE_INT, 2.0, "k: 2.0 is invalid (expected an integer >= 1)"),
    (Rule(float, gt=0), "2", "k: '2' is invalid (expected a number > 0)"),
    (Rule(float, gt=0), float("nan"), "k: nan is invalid (expected a number > 0)"),
    (Rule(float, gt=0), None, "k: None is invalid (expected a number > 0)"),
    (choices(["adam", "sgd"]), "adma", "k: 'adma' is invalid (expected one of adam, sgd); did you mean 'adam'?"),
    (Rule(list, items=POSITIVE_INT), [1, -1], "k[1]: -1 is invalid (expected an integer >= 1)"),
    (Rule(list, min_len=1), [], "k: [] is invalid (expected a non-empty list)"),
])
def test_invalid_values_give_the_one_error_shape(rule: Rule, value, message: str):
    with pytest.raises(ConfigError) as err:
        rule.check(value, "k")
    assert str(err.value) == message


def test_a_huge_value_is_never_echoed():
    with pytest.raises(ConfigError) as err:
        POSITIVE_INT.check("x" * 10_000, "k")
    assert len(str(err.value)) < 120


def _registries():
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.models import MODELS
    from dflbench.samplers import SAMPLERS

    return [(reg, name) for reg in (LOSSES, SOURCES, MODELS, SAMPLERS) for name in reg.names()]


@pytest.mark.parametrize(("registry", "name"), _registries(),
                         ids=[f"{r.kind}-{n}" for r, n in _registries()])
def test_every_rule_names_a_parameter_and_accepts_its_default(registry, name):
    """Rules are declared with the registration: each must govern a real parameter, and the
    parameter's own default must pass it (else the entry could not be built as documented)."""
    accepted = registry.accepted_params(name)
    params = inspect.signature(registry.get(name)).parameters
    for param, rule in registry.rules(name).items():
        assert param in accepted, f"{registry.kind} '{name}': rule for unknown parameter '{param}'"
        default = params[param].default
        if default is not inspect.Parameter.empty:
            rule.check(default, f"{name}.{param}")
