"""Process-wide settings are applied by whoever owns the process (the CLI entry, the executors'
worker processes), never as a side effect of importing or calling the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dflbench.settings as settings
from dflbench import executors
from dflbench.cli import main

ROOT = Path(__file__).resolve().parents[2]
GLIBC = sys.platform.startswith("linux")

_TRAIN_THEN_REPORT = """
import numpy as np, torch
threads = torch.get_num_threads()
import dflbench.settings as settings
from dflbench.config import ModelConfig, TrainConfig
from dflbench.engine import TrainData, Treatment, train_models
X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
y = np.arange(40) % 2
train_models(TrainData(X, y, None, None, X, 2), [Treatment("ce", "ce")], [0], [20, 20],
             ModelConfig("mlp", {"hidden": [4]}), TrainConfig(epochs=1, batch_size=16),
             torch.device("cpu"))
print(settings._MALLOC_TUNED, torch.get_num_threads() == threads)
"""


def test_training_through_the_library_changes_no_process_setting():
    res = subprocess.run([sys.executable, "-c", _TRAIN_THEN_REPORT], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["False", "True"]  # malloc untouched, torch threads unchanged


def test_the_cli_entry_applies_them(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(settings, "apply_process_settings", lambda: calls.append(1))
    with pytest.raises(SystemExit):
        main(["list", "losses"])
    assert calls == [1]


def _tuned(_: object) -> bool:
    return settings._MALLOC_TUNED


@pytest.mark.skipif(not GLIBC, reason="malloc tuning is glibc only")
def test_a_local_worker_process_applies_them_at_start_up(monkeypatch):
    monkeypatch.delenv("DFLBENCH_NO_MALLOPT", raising=False)
    pool = executors.ProcessPoolExecutor(2)
    try:
        assert [result for _, result, _ in pool.run(_tuned, [None])] == [True]
    finally:
        pool.close()


def test_dask_and_ray_tasks_apply_them_first(monkeypatch):
    calls = []
    monkeypatch.setattr(settings, "apply_process_settings", lambda: calls.append("settings"))
    assert executors._apply(lambda item: calls.append(item) or "done", "task") == "done"
    assert calls == ["settings", "task"]
