"""Runs a suite: prepare every dataset (all validation before any training), reuse what the task
cache holds, train the rest on an executor, and assemble the typed :class:`SuiteResult` with its
summary. Nothing here prints; progress goes to a listener the caller provides (the CLI draws a
rich progress bar from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from dflbench.cache import TaskCache, task_config, task_key
from dflbench.config import Suite
from dflbench.executors import Executor, SerialExecutor
from dflbench.prepare import PreparedTask, prepare
from dflbench.results.io import environment, utc_now
from dflbench.results.model import SuiteResult
from dflbench.stats import summarize
from dflbench.task import TaskOutput, execute_task, failed_runs, models_per_task


class ProgressListener(Protocol):
    """Receives progress in units of trained models (fractions while a dataset trains)."""

    def start(self, n_datasets: int, models_per_dataset: int) -> None: ...
    def task_started(self, dataset: str) -> None: ...
    def advance(self, models: float) -> None: ...
    def task_done(self, dataset: str, cached: bool = False) -> None: ...


class Interrupted(Exception):
    """Raised on Ctrl-C / SIGTERM; carries the result of every finished dataset."""

    def __init__(self, partial: SuiteResult) -> None:
        super().__init__("interrupted")
        self.partial = partial


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers restrict)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def stack_workers(concurrency: int | None) -> int:
    """Threads per dataset task: this machine's cores shared by the ``concurrency`` tasks that run
    on it at once (``--jobs``), at most one per sub-stack (:data:`dflbench.engine.STACK_PARTS`);
    1 when tasks run on a remote cluster of unknown size."""
    from dflbench.engine import STACK_PARTS

    if concurrency is None:
        return 1
    return max(1, min(STACK_PARTS, available_cores() // max(1, concurrency)))


@dataclass(frozen=True)
class PlannedTask:
    """A prepared dataset task with its cache key and, when resuming, its cached output."""

    task: PreparedTask
    key: str
    config: dict[str, Any]
    cached: TaskOutput | None

    @property
    def name(self) -> str:
        return self.task.entry.name


def plan(suite: Suite, device: str = "auto", cache: TaskCache | None = None,
         resume: bool = True) -> tuple[str, list[PlannedTask]]:
    """Validate and prepare every dataset, and look each task up in the cache."""
    from dflbench.engine import resolve_device

    dev = str(resolve_device(device))
    planned = []
    for task in prepare(suite):
        config = task_config(suite, task.entry, dev)
        key = task_key(config)
        cached = cache.get(key) if cache is not None and resume else None
        planned.append(PlannedTask(task, key, config, cached))
    return dev, planned


def run_suite(suite: Suite, device: str = "auto", listener: ProgressListener | None = None, *,
              executor: Executor | None = None, cache: TaskCache | None = None,
              resume: bool = True) -> SuiteResult:
    """Prepare, train (or reuse from the cache) and summarise a whole suite.

    A dataset task that raises is recorded as failed and the others go on. On KeyboardInterrupt,
    raises :class:`Interrupted` holding every finished dataset's result, marked incomplete.
    """
    dev, planned = plan(suite, device, cache, resume)
    executor = executor or SerialExecutor()
    workers = stack_workers(executor.concurrency)
    result = SuiteResult(
        suite={"name": suite.name, "sha256": suite.sha256(), "config": suite.to_dict()},
        environment=environment(dev, workers), protocol=suite.protocol_record(), created=utc_now())
    done = {i: p.cached for i, p in enumerate(planned) if p.cached is not None}
    result.cache = {"reused": [planned[i].name for i in sorted(done)], "computed": []}
    if listener is not None:
        listener.start(len(planned), models_per_task(suite))
        for i in sorted(done):
            listener.task_done(planned[i].name, cached=True)
    pending = [i for i in range(len(planned)) if i not in done]
    try:
        for j, output in _outputs(executor, suite, dev, workers, listener,
                                  [planned[i] for i in pending], cache):
            done[pending[j]] = output
            result.cache["computed"].append(planned[pending[j]].name)
            if listener is not None:
                listener.task_done(planned[pending[j]].name)
    except KeyboardInterrupt:
        _assemble(result, suite, done)
        result.complete = False
        raise Interrupted(result) from None
    finally:
        executor.close()
    _assemble(result, suite, done)
    return result


def _outputs(executor: Executor, suite: Suite, device: str, workers: int,
             listener: ProgressListener | None, tasks: list[PlannedTask],
             cache: TaskCache | None) -> Any:
    """(index, output) of each task as it finishes; a task that raised yields failed runs, a
    finished one is stored in the cache."""
    in_process = listener is not None and executor.in_process
    run_one: Callable[[PreparedTask], TaskOutput] = partial(
        execute_task, suite=suite, device=device,
        advance=listener.advance if in_process else None, workers=workers)
    if in_process:
        run_one = _announcing(run_one, listener)
    for j, output, error in executor.run(run_one, [p.task for p in tasks]):
        p = tasks[j]
        if error is not None:
            output = failed_runs(p.task, suite, f"{type(error).__name__}: {error}")
        elif cache is not None:
            cache.put(p.key, p.config, output)
        yield j, output


def _announcing(fn: Callable[[PreparedTask], TaskOutput],
                listener: Any) -> Callable[[PreparedTask], TaskOutput]:
    def run(task: PreparedTask) -> TaskOutput:
        listener.task_started(task.entry.name)
        return fn(task)

    return run


def _assemble(result: SuiteResult, suite: Suite, done: dict[int, TaskOutput]) -> None:
    """Datasets and runs of the finished tasks in suite order, and the summary over runs."""
    result.datasets = [done[i].info for i in sorted(done)]
    result.runs = [run for i in sorted(done) for run in done[i].runs]
    result.summary = summarize(result.runs, [lo.label for lo in suite.losses],
                               [d.name for d in result.datasets])
