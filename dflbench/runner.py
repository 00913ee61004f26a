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

from dflbench.cache import CachedTask, TaskCache, data_digest, task_config, task_key
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
    cached: CachedTask | None

    @property
    def name(self) -> str:
        return self.task.entry.name


def plan(suite: Suite, device: str = "auto", cache: TaskCache | None = None,
         resume: bool = True) -> tuple[str, list[PlannedTask]]:
    """Validate and prepare every dataset, and look each task up in the cache."""
    from dflbench.engine import resolve_device

    dev = str(resolve_device(device))
    planned = []
    for task in prepare(suite, dev):
        config = task_config(suite, task.entry, dev, data_digest(task))
        key = task_key(config)
        cached = cache.get(key) if cache is not None and resume else None
        planned.append(PlannedTask(task, key, config, cached))
    return dev, planned


def run_suite(suite: Suite, device: str = "auto", listener: ProgressListener | None = None, *,
              executor: Executor | None = None, cache: TaskCache | None = None,
              resume: bool = True, created: str | None = None,
              result_path: str | None = None) -> SuiteResult:
    """Prepare, train (or reuse from the cache) and summarise a whole suite.

    ``created`` (default: now) stamps the result and ``result_path`` says where the caller will
    write it; both are stored with every task this run puts in the cache, so a later run can say
    which run a reused task came from. A dataset task that raises is recorded as failed and the
    others go on. On KeyboardInterrupt, raises :class:`Interrupted` holding every finished
    dataset's result, marked incomplete.
    """
    dev, planned = plan(suite, device, cache, resume)
    executor = executor or SerialExecutor()
    workers = stack_workers(executor.concurrency)
    result = SuiteResult(
        suite={"name": suite.name, "sha256": suite.sha256(), "config": suite.to_dict()},
        environment=environment(dev, workers), protocol=suite.protocol_record(),
        created=created or utc_now())
    origin = {"created": result.created, "suite": suite.name,
              **({"result": result_path} if result_path else {})}
    done = {i: p.cached.output for i, p in enumerate(planned) if p.cached is not None}
    result.cache = {"reused": [planned[i].name for i in sorted(done)], "computed": [],
                    "origins": {planned[i].name: planned[i].cached.origin  # type: ignore[union-attr]
                                for i in sorted(done)}}
    if listener is not None:
        listener.start(len(planned), models_per_task(suite))
        for i in sorted(done):
            listener.task_done(planned[i].name, cached=True)
    pending = [i for i in range(len(planned)) if i not in done]
    tasks = [planned[i] for i in pending]

    def finished(outcomes: Any) -> None:
        for j, output in _kept(outcomes, suite, tasks, cache, origin):
            done[pending[j]] = output
            result.cache["computed"].append(tasks[j].name)
            if listener is not None:
                listener.task_done(tasks[j].name)

    try:
        finished(executor.run(_task_function(suite, dev, workers, listener, executor.in_process),
                              [p.task for p in tasks]))
    except KeyboardInterrupt:
        # Keep what finished while the interruption arrived, then end the workers at once.
        finished(executor.drain())
        executor.stop()
        _assemble(result, suite, done)
        result.complete = False
        raise Interrupted(result) from None
    finally:
        executor.close()
    _assemble(result, suite, done)
    return result


def _task_function(suite: Suite, device: str, workers: int, listener: ProgressListener | None,
                   in_process: bool) -> Callable[[PreparedTask], TaskOutput]:
    """The function an executor applies to each prepared task (reporting per epoch when tasks
    run in this process)."""
    per_epoch = listener is not None and in_process
    run_one: Callable[[PreparedTask], TaskOutput] = partial(
        execute_task, suite=suite, device=device,
        advance=listener.advance if per_epoch else None, workers=workers)
    return _announcing(run_one, listener) if per_epoch else run_one


def _kept(outcomes: Any, suite: Suite, tasks: list[PlannedTask], cache: TaskCache | None,
          origin: dict[str, str]) -> Any:
    """(index, output) of each executor outcome: a task that raised becomes failed runs, a
    finished one is stored in the cache (with the run that computed it)."""
    for j, output, error in outcomes:
        p = tasks[j]
        if error is not None:
            output = failed_runs(p.task, suite, f"{type(error).__name__}: {error}")
        elif cache is not None:
            cache.put(p.key, p.config, output, origin)
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
