"""Where dataset tasks run: this process, a local process pool, a Dask cluster or Ray, behind one
interface. Every backend runs the same task function on the same inputs, and training is
deterministic on a given machine, so every backend gives the same metrics.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dflbench.errors import ConfigError


class Backend(str, enum.Enum):
    local = "local"
    dask = "dask"
    ray = "ray"


Outcome = tuple[int, Any, BaseException | None]  # (item index, result, error)


class Executor:
    """Runs ``fn`` over items and yields (index, result, error) as tasks finish."""

    #: True when tasks run in this process (progress can be reported per epoch).
    in_process = False
    #: How many tasks run at once on this machine (they share its cores); None when they run
    #: elsewhere (a remote cluster), where this machine's cores say nothing.
    concurrency: int | None = 1

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers and cancel what has not started."""


class SerialExecutor(Executor):
    """Tasks one after another in this process."""

    in_process = True

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        for i, item in enumerate(items):
            try:
                yield i, fn(item), None
            except Exception as exc:  # recorded as a failed task; KeyboardInterrupt propagates
                yield i, None, exc


class ProcessPoolExecutor(Executor):
    """Tasks in ``jobs`` local worker processes (spawned, so no torch state is forked)."""

    def __init__(self, jobs: int) -> None:
        import concurrent.futures
        import multiprocessing

        from dflbench.settings import apply_process_settings

        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
            initializer=apply_process_settings)
        self.concurrency = jobs

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        import concurrent.futures

        futures = {self.pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in concurrent.futures.as_completed(futures):
            exc = future.exception()
            yield futures[future], None if exc else future.result(), exc

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster: an existing scheduler, or a LocalCluster on loopback."""

    def __init__(self, scheduler: str | None, jobs: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "--backend dask needs Dask distributed: pip install 'dflbench[dask]'") from None
        self.cluster = None
        self.concurrency = None if scheduler else jobs
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        futures = {self.client.submit(_apply, fn, item, pure=False): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            if future.status == "error":
                yield futures[future], None, future.exception()
            else:
                yield futures[future], future.result(), None

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class RayExecutor(Executor):
    """Tasks on Ray: an existing cluster (``address``) or a local one started for the run."""

    def __init__(self, address: str | None, jobs: int) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray needs Ray: pip install 'dflbench[ray]'") from None
        self.ray = ray
        self.concurrency = None if address else jobs
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False)

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        remote = self.ray.remote(num_cpus=1)(_apply)  # Ray wraps functions, not partials
        pending = {remote.remote(fn, item): i for i, item in enumerate(items)}
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1)
            ref = done[0]
            i = pending.pop(ref)
            try:
                yield i, self.ray.get(ref), None
            except self.ray.exceptions.RayTaskError as exc:
                yield i, None, exc.cause if exc.cause is not None else exc

    def close(self) -> None:
        self.ray.shutdown()


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    """``fn(item)`` in a worker process of Dask or Ray, whose start-up is not ours to hook: the
    process-wide settings are applied before the first task (idempotent)."""
    from dflbench.settings import apply_process_settings

    apply_process_settings()
    return fn(item)


def make_executor(backend: Backend, jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--backend``/``--jobs``/``--scheduler``."""
    if jobs < 1:
        raise ConfigError(f"--jobs: {jobs} is invalid (an integer >= 1)")
    if backend is Backend.dask:
        return DaskExecutor(scheduler, jobs)
    if backend is Backend.ray:
        return RayExecutor(scheduler, jobs)
    if scheduler:
        raise ConfigError("--scheduler needs --backend dask or ray")
    return SerialExecutor() if jobs == 1 else ProcessPoolExecutor(jobs)
