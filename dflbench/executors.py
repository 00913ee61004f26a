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

    def drain(self) -> list[Outcome]:
        """After an interruption: the tasks that finished but were not yielded yet, so the
        caller keeps every finished task."""
        return []

    def stop(self) -> None:
        """After an interruption: end running tasks now and cancel the rest (then :meth:`close`)."""

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
    """Tasks in ``jobs`` local worker processes (spawned, so no torch state is forked).

    Workers ignore Ctrl-C (a terminal sends it to the whole process group): this process decides,
    keeps what finished (:meth:`drain`) and ends the workers at once (:meth:`stop`), instead of
    waiting for the datasets in progress to finish."""

    def __init__(self, jobs: int) -> None:
        import concurrent.futures
        import multiprocessing

        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init)
        self.concurrency = jobs
        self.futures: dict[Any, int] = {}
        self.yielded: set[Any] = set()

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        import concurrent.futures

        self.futures = {self.pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in concurrent.futures.as_completed(self.futures):
            self.yielded.add(future)
            exc = future.exception()
            yield self.futures[future], None if exc else future.result(), exc

    def drain(self) -> list[Outcome]:
        out = []
        for future, i in self.futures.items():
            if future.done() and not future.cancelled() and future not in self.yielded:
                self.yielded.add(future)
                exc = future.exception()
                out.append((i, None if exc else future.result(), exc))
        return out

    def stop(self) -> None:
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _worker_init() -> None:
    """A pool worker's start: the process-wide settings, and Ctrl-C left to the parent."""
    import signal

    from dflbench.settings import apply_process_settings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    apply_process_settings()


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
        self.futures: dict[Any, int] = {}
        self.yielded: set[Any] = set()
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        self.futures = {self.client.submit(_apply, fn, item, pure=False): i
                        for i, item in enumerate(items)}
        for future in as_completed(self.futures):
            self.yielded.add(future)
            yield self._outcome(future)

    def _outcome(self, future: Any) -> Outcome:
        if future.status == "error":
            return self.futures[future], None, future.exception()
        return self.futures[future], future.result(), None

    def drain(self) -> list[Outcome]:
        done = [f for f in self.futures if f.status in ("finished", "error") and f not in self.yielded]
        self.yielded.update(done)
        return [self._outcome(f) for f in done]

    def stop(self) -> None:
        self.client.cancel([f for f in self.futures if f not in self.yielded], force=True)

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
        self.pending: dict[Any, int] = {}
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False)

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        remote = self.ray.remote(num_cpus=1)(_apply)  # Ray wraps functions, not partials
        self.pending = {remote.remote(fn, item): i for i, item in enumerate(items)}
        while self.pending:
            done, _ = self.ray.wait(list(self.pending), num_returns=1)
            yield self._outcome(done[0])

    def _outcome(self, ref: Any) -> Outcome:
        i = self.pending.pop(ref)
        try:
            return i, self.ray.get(ref), None
        except self.ray.exceptions.RayTaskError as exc:
            return i, None, exc.cause if exc.cause is not None else exc

    def drain(self) -> list[Outcome]:
        if not self.pending:
            return []
        done, _ = self.ray.wait(list(self.pending), num_returns=len(self.pending), timeout=0)
        return [self._outcome(ref) for ref in done]

    def stop(self) -> None:
        for ref in list(self.pending):
            self.ray.cancel(ref, force=True)

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
    if scheduler and backend is not Backend.local:
        _check_address(backend, scheduler)
    if backend is Backend.dask:
        return DaskExecutor(scheduler, jobs)
    if backend is Backend.ray:
        return RayExecutor(scheduler, jobs)
    if scheduler:
        raise ConfigError("--scheduler needs --backend dask or ray")
    return SerialExecutor() if jobs == 1 else ProcessPoolExecutor(jobs)


#: The address schemes each backend connects with (Dask's communication protocols; Ray's client
#: protocol). An address without a scheme (``HOST:PORT``) is Dask's ``tcp://`` and Ray's GCS address.
SCHEMES = {Backend.dask: ("tcp", "tls", "inproc", "ucx", "ws", "wss"), Backend.ray: ("ray",)}


def _check_address(backend: Backend, address: str) -> None:
    """Refuse an address of a scheme the backend cannot connect with, before connecting."""
    scheme, sep, rest = address.partition("://")
    if sep and scheme not in SCHEMES[backend]:
        valid = ", ".join(f"{s}://" for s in SCHEMES[backend])
        raise ConfigError(f"--scheduler {address}: unknown address scheme '{scheme}://' for "
                          f"--backend {backend.value} (valid: {valid}, or HOST:PORT)")
    if sep and not rest:
        raise ConfigError(f"--scheduler {address}: no host after '{scheme}://'")
