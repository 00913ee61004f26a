"""The conformance checks of ``dflbench check-loss``: every registered loss passes them all, and
each check catches the fault it exists for (a plugin file of broken losses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dflbench.conformance import run_checks
from dflbench.losses import LOSSES
from dflbench.losses._plugin import register

PLUGINS = Path(__file__).resolve().parents[2] / "fixtures" / "plugins"


@pytest.fixture(autouse=True)
def _registry_restored(monkeypatch):
    """The plugin losses registered here leave the registry as they found it."""
    monkeypatch.setattr(LOSSES, "_items", dict(LOSSES._items))
    monkeypatch.setattr(LOSSES, "_rules", dict(LOSSES._rules))


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_registered_loss_passes_every_check(name: str):
    failed = [(c.name, c.detail) for c in run_checks(name, {}, 3) if not c.passed]
    assert failed == []


@pytest.mark.parametrize(("cls", "fails"), [
    ("AsymmetricLoss", set()),
    ("WrongShape", {"shape", "independent"}),
    ("NaNAtLarge", {"finite"}),
    ("BatchCoupled", {"independent"}),
])
def test_each_check_catches_its_fault(cls: str, fails: set[str]):
    spec = register(f"losses_for_checks.py:{cls}", PLUGINS)
    assert {c.name for c in run_checks(spec, {}, 4) if not c.passed} == fails


def test_check_loss_through_the_cli(cli, monkeypatch):
    monkeypatch.chdir(PLUGINS)
    ok = cli("check-loss", "./losses_for_checks.py:AsymmetricLoss", "--param", "gamma_neg=8")
    assert ok.code == 0 and "7 of 7 checks passed" in ok.out
    # Below gamma 1, (1 - p_t)^gamma has an infinite slope at p_t = 1: the check says so.
    steep = cli("check-loss", "./losses_for_checks.py:AsymmetricLoss", "-p", "gamma_neg=2")
    assert steep.code == 1 and "non-finite gradient at logits ±10000" in steep.out
    bad = cli("check-loss", "./losses_for_checks.py:NaNAtLarge")
    assert bad.code == 1 and "FAIL  finite" in bad.out and "failed: finite" in bad.out
    missing = cli("check-loss", "./losses_for_checks.py:Nope")
    assert missing.code == 2 and "no class 'Nope'" in missing.err
    assert cli("check-loss", "dual_focall").code == 2
