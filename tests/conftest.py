"""Shared fixtures: tiny suites written to tmp_path, and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dflbench.cli import main


def write_suite(path: Path, **overrides: Any) -> Path:
    """A tiny valid suite (iris + synthetic, 2 losses, 2 seeds, 3 epochs), with overrides."""
    suite: dict[str, Any] = {
        "name": "tiny",
        "seeds": 2,
        "model": {"name": "mlp", "hidden": [8]},
        "train": {"epochs": 3, "batch_size": 32, "lr": 0.01},
        "datasets": [
            {"name": "iris", "source": "sklearn", "imbalance": {"profile": "exponential", "ratio": 5}},
            {"name": "syn", "source": "synthetic", "n_samples": 300, "n_features": 6,
             "n_informative": 3, "n_classes": 3, "weights": [0.7, 0.2, 0.1]},
        ],
        "losses": ["ce", {"name": "focal", "gamma": 2.0}, "dual_focal_learnable"],
    }
    suite.update(overrides)
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


@pytest.fixture
def tiny_suite(tmp_path: Path) -> Path:
    return write_suite(tmp_path / "tiny.yaml")


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run ``dflbench ARGS`` in-process; returns exit code, stdout and stderr. The task cache
    lives in the test's own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


def assert_one_line_error(res: CliResult, *needles: str) -> None:
    """Exit 2 and exactly one stderr line naming the problem; never a traceback."""
    assert res.code == 2, (res.code, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    assert lines[0].startswith("dflbench: error: ")
    assert "Traceback" not in res.err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def restored_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plugins a test loads stay in that test: the registries are restored after it."""
    from dflbench.config import plugins
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.models import MODELS

    for registry in (LOSSES, SOURCES, MODELS):
        monkeypatch.setattr(registry, "_items", dict(registry._items))
        monkeypatch.setattr(registry, "_rules", dict(registry._rules))
    monkeypatch.setattr(plugins, "_LIVE", False)
