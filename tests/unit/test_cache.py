"""The task cache's key knows the data: the same prepared data gives the same digest, any change
to what a task trains or is scored on gives another key."""

from __future__ import annotations

import dataclasses

import numpy as np

from dflbench.cache import CachedTask, TaskCache, data_digest, task_config, task_key
from dflbench.config import parse_suite
from dflbench.prepare import prepare_task

SUITE = {"name": "c", "datasets": [{"name": "iris", "source": "sklearn"}], "losses": ["ce"], "seeds": 1}


def _task():
    suite = parse_suite(SUITE, source="c.yaml")
    return suite, prepare_task(suite.datasets[0], suite)


def test_the_digest_is_the_data_s():
    suite, task = _task()
    assert data_digest(task) == data_digest(_task()[1])  # prepared again: the same bytes
    fold = task.folds[0]
    X = fold.data.X_train.copy()
    X[0, 0] = np.nextafter(X[0, 0], np.float32(np.inf))  # one value moved by one ulp
    moved = dataclasses.replace(task, folds=(dataclasses.replace(
        fold, data=dataclasses.replace(fold.data, X_train=X)),))
    assert data_digest(moved) != data_digest(task)
    relabelled = dataclasses.replace(task, folds=(dataclasses.replace(
        fold, y_test=fold.y_test[::-1].copy()),))
    assert data_digest(relabelled) != data_digest(task)
    config = task_config(suite, task.entry, "cpu", data_digest(task))
    assert task_key(config) != task_key(task_config(suite, task.entry, "cpu", data_digest(moved)))


def test_an_entry_remembers_the_run_that_computed_it(tmp_path):
    from dflbench.task import TaskOutput

    task = _task()[1]
    cache = TaskCache(tmp_path)
    output = TaskOutput(task.info, ())
    origin = {"created": "2026-01-01T00:00:00Z", "suite": "c", "result": "results/c.json"}
    cache.put("k", {}, output, origin)
    assert cache.get("k") == CachedTask(output, origin)
    cache.put("old", {}, output)  # an entry without an origin reads as one
    assert cache.get("old") == CachedTask(output, {})
