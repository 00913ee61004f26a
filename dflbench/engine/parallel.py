"""Sub-stacks trained at once in threads.

Each stack is split into :data:`STACK_PARTS` sub-stacks, and ``workers`` of them train at once in
threads: torch releases the GIL inside its kernels, so while one core runs a sub-stack's many small
per-step operations (the losses, mostly) another trains the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from dflbench.engine.outcome import ModelOutcome

#: Sub-stacks per stack. Fixed, not the number of free cores: a batched matmul or a vectorised
#: kernel may round differently for another stack size, so a split that followed the machine
#: would make results depend on it (and on --jobs). Measured on the 2-core machine
#: (bench_engine.py, 10 epochs): two sub-stacks in two threads 6.8 s, one stack on two OpenMP
#: threads 7.3 s, two sub-stacks one after the other 10.2 s; beside a busy process 8.1, 29.8 and
#: 10.4 s (OpenMP threads spin-wait for each other, Python threads do not).
STACK_PARTS = 2

T = TypeVar("T")


class Stopped(Exception):
    """A sub-stack gave up because another one failed or the run was interrupted."""


class Runnable(Protocol):
    """A stack, as :func:`run_stacks` sees it: ``stop``, once set, ends its training at the next
    step by raising :class:`Stopped`."""

    def run(self, on_epoch: Callable[[int], None] | None,
            stop: threading.Event | None = None) -> list[ModelOutcome]: ...


def split(group: list[T], seeds: list[int], parts: int) -> list[tuple[list[T], list[int]]]:
    """Up to ``parts`` parts of a stack: treatments dealt round-robin (so that neighbours in a
    suite, often alike in cost, go to different parts), or seeds when there is one treatment."""
    if len(group) > 1:
        n = min(parts, len(group))
        return [(group[i::n], seeds) for i in range(n)]
    n = min(parts, len(seeds))
    return [(group, seeds[i::n]) for i in range(n)]


def run_stacks(stacks: list[Runnable], on_epoch: Callable[[int], None] | None, workers: int
               ) -> list[list[ModelOutcome]]:
    """Run the stacks, ``workers`` at a time in threads; the first error (or KeyboardInterrupt)
    stops the others at their next step and is re-raised once they have. ``on_epoch(n_models)``
    is called (serialised) after each epoch of each stack."""
    if workers <= 1 or len(stacks) == 1:
        return [stack.run(on_epoch) for stack in stacks]
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    lock, stop = threading.Lock(), threading.Event()

    def report(n_models: int) -> None:
        if on_epoch is not None:
            with lock:
                on_epoch(n_models)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dflbench-stack") as pool:
        futures = [pool.submit(stack.run, report, stop) for stack in stacks]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # re-raises a failure before waiting on the others
            return [future.result() for future in futures]
        except BaseException:
            stop.set()  # the others stop at their next step; leaving the pool waits for them
            raise
