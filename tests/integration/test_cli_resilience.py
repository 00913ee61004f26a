"""Runs that survive: cache and resume, failures, interruption, and the Dask backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dflbench.results import load_result
from tests.conftest import write_suite

REPO = Path(__file__).resolve().parents[2]


def _metrics(path: Path) -> list:
    return [(r.dataset, r.label, r.seed, r.metrics) for r in load_result(path).runs]


def test_resume_reuses_finished_tasks_and_recomputes_none(cli, tiny_suite: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    first = cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path / "a.json"), "--cache-dir", str(cache))
    assert first.code == 0 and "reused" not in first.err
    assert len(list(cache.glob("*.json"))) == 2
    dry = cli("run", "--suite", str(tiny_suite), "--cache-dir", str(cache), "--dry-run")
    assert dry.code == 0 and dry.out.count("cached") == 2 and "would run" not in dry.out
    again = cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path / "b.json"), "--cache-dir", str(cache))
    assert "2 of 2 dataset(s) reused from the cache" in again.err
    assert _metrics(tmp_path / "a.json") == _metrics(tmp_path / "b.json")
    origin = {"created": load_result(tmp_path / "a.json").created, "suite": "tiny",
              "result": str(tmp_path / "a.json")}
    assert load_result(tmp_path / "b.json").cache == {
        "reused": ["iris", "syn"], "computed": [], "origins": {"iris": origin, "syn": origin}}
    assert f"reused from the task cache: computed by the run of {origin['created']}, " \
           f"{tmp_path / 'a.json'}" in again.out
    assert dry.out.count(f"from the run of {origin['created']}") == 2
    # A changed configuration is a different task: nothing reused.
    changed = cli("run", "--suite", str(tiny_suite), "--epochs", "2", "--out", str(tmp_path / "c.json"),
                  "--cache-dir", str(cache))
    assert changed.code == 0 and "reused" not in changed.err
    assert load_result(tmp_path / "c.json").cache == {"reused": [], "computed": ["iris", "syn"],
                                                      "origins": {}}
    # --no-resume recomputes; --no-cache neither reads nor writes.
    fresh = cli("run", "--suite", str(tiny_suite), "--no-resume", "--out", str(tmp_path / "d.json"),
                "--cache-dir", str(cache))
    assert fresh.code == 0 and load_result(tmp_path / "d.json").cache["reused"] == []
    empty = tmp_path / "empty-cache"
    nc = cli("run", "--suite", str(tiny_suite), "--no-cache", "-q", "--cache-dir", str(empty),
             "--out", str(tmp_path / "e.json"))
    assert nc.code == 0 and (tmp_path / "e.json").exists() and not empty.exists()


def test_corrupt_cache_entry_is_ignored_and_recomputed(cli, tiny_suite: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    cli("run", "--suite", str(tiny_suite), "-q", "--out", str(tmp_path / "a.json"), "--cache-dir", str(cache))
    entries = sorted(cache.glob("*.json"))
    entries[0].write_text('{"key": "truncated", "result": {')
    entries[1].write_text(json.dumps({"key": entries[1].stem, "result": {"rows": "nope"}}))
    res = cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path / "b.json"), "--cache-dir", str(cache))
    assert res.code == 0 and "reused" not in res.err
    assert _metrics(tmp_path / "a.json") == _metrics(tmp_path / "b.json")
    assert all(json.loads(e.read_text())["key"] == e.stem for e in entries)  # rewritten
    assert json.loads(entries[1].read_text())["result"] != {"rows": "nope"}


def test_a_failing_task_is_recorded_and_the_others_finish(cli, tiny_suite: Path, tmp_path: Path, monkeypatch):
    import dflbench.task as task_module

    real = task_module.run_task

    def flaky(task, *args, **kwargs):
        if task.entry.name == "syn":
            raise OSError("disk vanished")
        return real(task, *args, **kwargs)

    monkeypatch.setattr(task_module, "run_task", flaky)
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(tiny_suite), "--out", str(out), "--no-cache")
    assert res.code == 3
    runs = load_result(out).runs
    assert {r.status.value for r in runs if r.dataset == "iris"} == {"ok"}
    syn = [r for r in runs if r.dataset == "syn"]
    assert syn and all(r.status.value == "failed" and r.error == "OSError: disk vanished" for r in syn)
    assert "failed" in res.err and "disk vanished" in res.err


def test_local_process_pool_gives_the_same_metrics(cli, tiny_suite: Path, tmp_path: Path):
    cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--out", str(tmp_path / "serial.json"))
    res = cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--jobs", "2",
              "--out", str(tmp_path / "pool.json"))
    assert res.code == 0, res.err
    assert _metrics(tmp_path / "serial.json") == _metrics(tmp_path / "pool.json")


@pytest.mark.slow
def test_dask_cluster_on_loopback_gives_the_same_metrics(cli, tiny_suite: Path, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--out", str(tmp_path / "local.json"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        res = cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--backend", "dask",
                  "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask.json"))
    assert res.code == 0, res.err
    assert _metrics(tmp_path / "local.json") == _metrics(tmp_path / "dask.json")


def test_bad_backend_options(cli):
    res = cli("run", "--suite", "smoke", "--scheduler", "tcp://127.0.0.1:1")
    assert res.code == 2 and "--scheduler needs --backend dask or ray" in res.err


@pytest.mark.slow
def test_sigint_writes_finished_tasks_and_resume_computes_only_the_rest(tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", seeds=1, train={"epochs": 120, "batch_size": 32, "lr": 0.01},
                        datasets=[
                            {"name": "iris", "source": "sklearn"},
                            {"name": "big", "source": "synthetic", "n_samples": 6000, "n_features": 20},
                            {"name": "wine", "source": "sklearn"},
                        ], losses=["ce"])
    out, cache = tmp_path / "r.json", tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "dflbench", "run", "--suite", str(suite), "--out", str(out),
           "--cache-dir", str(cache)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + 120
    line = ""
    while "iris" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    assert "[1/3] iris done" in line
    time.sleep(0.5)  # inside the slow dataset (several seconds of training)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, err
    assert "Traceback" not in err and "interrupted" in err
    partial = json.loads(out.read_text())
    assert partial["complete"] is False
    assert [d["name"] for d in partial["datasets"]] == ["iris"]
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "[1/3] iris reused from the cache" in rerun.stderr
    assert "1 of 3 dataset(s) reused" in rerun.stderr
    assert json.loads(out.read_text())["complete"] is True


@pytest.mark.slow
def test_ray_backend_gives_the_same_metrics(cli, tiny_suite: Path, tmp_path: Path):
    pytest.importorskip("ray")  # optional extra: pip install 'dflbench[ray]'
    cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--out", str(tmp_path / "local.json"))
    res = cli("run", "--suite", str(tiny_suite), "-q", "--no-cache", "--backend", "ray", "--jobs", "2",
              "--out", str(tmp_path / "ray.json"))
    assert res.code == 0, res.err
    assert _metrics(tmp_path / "local.json") == _metrics(tmp_path / "ray.json")


def test_cache_key_changes_with_the_code(monkeypatch, tiny_suite: Path):
    from dflbench import cache
    from dflbench.config import load_suite

    suite = load_suite(str(tiny_suite))
    config = cache.task_config(suite, suite.datasets[0], "cpu")
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-build")
    assert cache.task_key(cache.task_config(suite, suite.datasets[0], "cpu")) != cache.task_key(config)


def test_a_result_that_cannot_be_written_after_training_is_written_beside_the_cache(
        cli, tiny_suite: Path, tmp_path: Path, monkeypatch):
    """Writing fails after training (disk full, say): the result goes to a fallback file, named
    in one line, and the exit code says something failed."""
    import errno

    import dflbench.results as results

    real = results.write_result
    out = tmp_path / "out" / "r.json"

    def disk_full(result, path):
        if path == out:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(result, path)

    monkeypatch.setattr(results, "write_result", disk_full)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    res = cli("run", "--suite", str(tiny_suite), "--out", str(out), "-q", "--no-cache",
              "--seeds", "1", "--epochs", "1")
    fallback = tmp_path / "xdg" / "dflbench" / "unsaved-results" / "r.json"
    assert res.code == 3 and not out.exists()
    assert f"cannot write {out} (No space left on device); wrote the result to {fallback}" in res.err
    assert {r.dataset for r in load_result(fallback).runs} == {"iris", "syn"}
