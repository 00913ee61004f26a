"""Executors: a local pool keeps every finished task on Ctrl-C and ends running ones at once; an
address of an unknown scheme is refused before connecting."""

from __future__ import annotations

import re
import time

import pytest

from dflbench.errors import ConfigError
from dflbench.executors import Backend, ProcessPoolExecutor, make_executor


def nap(seconds: float) -> float:
    """A task for the pool's spawned workers (importable, so picklable)."""
    time.sleep(seconds)
    return seconds


def test_drain_returns_what_finished_unseen_and_stop_ends_running_tasks():
    executor = ProcessPoolExecutor(2)
    outcomes = executor.run(nap, [0.0, 0.2, 600.0])
    first = next(outcomes)  # one quick task seen; the other finishes while we look away
    deadline = time.monotonic() + 60
    while not all(f.done() for f, i in executor.futures.items() if i != 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    drained = executor.drain()
    assert sorted([first[0], *[i for i, _, _ in drained]]) == [0, 1]
    assert all(error is None for _, _, error in drained) and executor.drain() == []
    started = time.monotonic()
    executor.stop()  # the 600-second task is ended, not waited for
    executor.close()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(("backend", "address", "message"), [
    (Backend.dask, "foo://h:1", "unknown address scheme 'foo://' for --backend dask"),
    (Backend.dask, "tls://", "no host after 'tls://'"),
    (Backend.ray, "tcp://h:1", "unknown address scheme 'tcp://' for --backend ray (valid: ray://"),
])
def test_an_address_of_an_unknown_scheme_is_refused_before_connecting(backend, address, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_executor(backend, 1, address)
