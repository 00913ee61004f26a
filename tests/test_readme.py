"""Docs tests: every command has help text and appears in the README; README examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import typer

from dflbench.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_every_command_has_help_and_is_in_the_readme():
    group = typer.main.get_command(app)
    assert group.commands
    for name, command in group.commands.items():
        assert command.help, f"command {name} has no help text"
        assert f"dflbench {name}" in README, f"README does not mention 'dflbench {name}'"


def test_readme_setup_commands_match_ci():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    test_command = re.search(r"^python3 -m venv .*pytest$", README, flags=re.M).group(0)
    assert test_command in ci
    assert re.search(r"^python3 -m venv .*dflbench run --suite imbalanced-tabular$", README, flags=re.M)


def test_readme_training_loop_example_runs():
    block = next(b for b in _python_blocks() if "get_loss" in b and "optimizer" in b)
    model = torch.nn.Linear(4, 3)
    namespace = {"model": model, "x": torch.randn(8, 4), "y": torch.randint(0, 3, (8,))}
    before = model.weight.detach().clone()
    exec(block, namespace)
    learnable = namespace["learnable"]
    # The example trained something: gamma's parameter got a gradient and moved, the model changed.
    assert learnable.r.grad is not None and learnable.r.grad.item() != 0
    assert float(learnable.learned()["gamma"]) != pytest.approx(1.0, abs=1e-5)
    assert not torch.equal(model.weight, before)


def test_readme_add_a_loss_example_registers_a_working_loss(monkeypatch: pytest.MonkeyPatch):
    from dflbench.errors import ConfigError
    from dflbench.losses import LOSSES, get_loss

    block = next(b for b in _python_blocks() if "@LOSSES.register" in b)
    monkeypatch.setattr(LOSSES, "_items", dict(LOSSES._items))
    monkeypatch.setattr(LOSSES, "_rules", dict(LOSSES._rules))
    exec(block, {"__name__": "readme_example"})
    loss = get_loss("my_loss", eps=0.5)
    logits, targets = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    ce = torch.nn.functional.cross_entropy(logits, targets)
    assert float(loss(logits, targets)) == pytest.approx(1.5 * float(ce))
    with pytest.raises(ConfigError, match=r"parameter 'eps': -1 is invalid \(expected a number >= 0\)"):
        get_loss("my_loss", eps=-1)
