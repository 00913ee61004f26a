"""The catalog ``dflbench list`` reads (plain data, no torch) is what the registries say."""

from __future__ import annotations

import json

import pytest

import dflbench.catalog.__main__ as catalog_command
from dflbench import catalog
from dflbench.catalog._build import build, differences, loss_entry, parameters, render
from dflbench.cli import list_cmd
from dflbench.losses import RESERVED
from dflbench.losses.focal import FocalLoss
from dflbench.params import Rule, path_rule


def test_the_shipped_catalog_equals_the_registries():
    changes = differences(build(), catalog.load())
    assert not changes, f"{catalog.PATH.name} is stale ({'; '.join(changes)}): run {catalog.WRITE_COMMAND}"


def test_parameters_are_described_as_plain_data():
    def loader(name: str, *, path: str, sep: str = ",", drop=None, random_state: int = 0, **extra):
        """Load a file.

        More detail."""

    described = parameters(loader, ("random_state",))
    assert described == [{"name": "name", "type": "str"}, {"name": "path", "type": "str"},
                         {"name": "sep", "type": "str", "default": "','"},
                         {"name": "drop", "default": "None"}]
    assert catalog.signature({"parameters": described}) == "name, path, sep=',', drop=None"


def test_a_loss_subclassing_another_is_described_with_what_it_inherits():
    class GentleFocal(FocalLoss):
        """A focal loss with a milder
        default.

        Not part of the summary."""

        title = "Gentle focal"

        def __init__(self, *, gamma: float = 0.5, **params) -> None:
            super().__init__(gamma=gamma, **params)

    e = loss_entry("gentle", GentleFocal, RESERVED)
    assert e["title"] == "Gentle focal" and e["source"] == FocalLoss.source
    assert e["summary"] == "A focal loss with a milder default."
    assert e["parameters"] == [{"name": "gamma", "type": "float", "default": "0.5"}]
    assert e["needs_class_counts"] is FocalLoss.needs_class_counts and e["head"] == "linear"


def test_the_check_command_names_each_change_and_the_command_that_fixes_it(monkeypatch, tmp_path,
                                                                               capsys):
    stale = json.loads(render(build()))
    stale["losses"] = [e for e in stale["losses"] if e["name"] != "ce"]
    next(e for e in stale["models"] if e["name"] == "mlp")["parameters"][0]["default"] = "(8,)"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(stale), encoding="utf-8")
    monkeypatch.setattr(catalog_command, "PATH", path)
    assert catalog_command.main([]) == 1
    out = capsys.readouterr().out
    assert "losses: 'ce' is registered but missing" in out
    assert "models: 'mlp' has changed" in out
    assert catalog.WRITE_COMMAND in out
    assert catalog_command.main(["--write"]) == 0
    assert path.read_text(encoding="utf-8") == render(build())
    assert catalog_command.main([]) == 0


@pytest.mark.parametrize(("name", "row"), [
    ("focal", ("focal", "Focal loss",
               "Lin, Goyal, Girshick, He, Dollár, 'Focal Loss for Dense Object Detection', ICCV 2017",
               "gamma=2.0, alpha=None, beta=0.9999", "—", "dflbench")),
    ("ldam", ("ldam", "LDAM (label-distribution-aware margin)",
              "Cao, Wei, Gaidon, Arechiga, Ma, 'Learning Imbalanced Datasets with "
              "Label-Distribution-Aware Margin Loss', NeurIPS 2019",
              "max_m=0.5, s=30.0, drw_start=None, beta=0.9999",
              "class counts, cosine head", "dflbench")),
])
def test_loss_rows_list_what_a_suite_may_set(name, row):
    assert dict((r[0], r) for r in list_cmd.loss_rows())[name] == row


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_the_catalog_checks_like_the_registry(kind):
    """What config checks suites with (no torch) holds each registry's names, labels and rules."""
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.models import MODELS
    from dflbench.samplers import SAMPLERS

    registry = {"losses": LOSSES, "datasets": SOURCES, "models": MODELS, "samplers": SAMPLERS}[kind]
    view = catalog.kind(kind)
    assert view.label == registry.kind and view.names() == registry.names()
    for name in registry.names():  # the loss parameter the trainer owns is not a suite's
        assert view.rules(name) == {k: r for k, r in registry.rules(name).items() if k != "reduction"}
        assert "foo" not in view.names() and name in view


@pytest.mark.parametrize("rule", [
    Rule(float, gt=0), Rule(int, ge=1, le=8), Rule(str, choices=("a", "b")), Rule(bool),
    Rule(list, items=Rule(int, ge=1), min_len=1), Rule(float, ge=0, nullable=True),
    path_rule("file"), path_rule("file", nullable=True, base="path"), Rule(dict)])
def test_a_rule_as_plain_data_is_the_same_rule(rule):
    data = rule.to_data()
    assert json.loads(json.dumps(data)) == data and Rule.from_data(data) == rule


def test_a_loss_parameter_the_trainer_owns_is_not_listed():
    assert all(p["name"] != "reduction" for e in catalog.entries("losses") for p in e["parameters"])
