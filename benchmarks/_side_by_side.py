"""Timing several approaches to the same work side by side in one run: each approach runs once
per repeat, in turn, so a machine whose speed drifts slows them alike; medians are reported."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def side_by_side(approaches: dict[str, Callable[[], Any]], repeats: int,
                 score: Callable[[Any], float]) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall seconds and the (last) score of every approach, after one warm-up of the
    first approach (first-call allocations and imports)."""
    times: dict[str, list[float]] = {name: [] for name in approaches}
    scores: dict[str, float] = {}
    next(iter(approaches.values()))()
    for _ in range(repeats):
        for name, fn in approaches.items():
            start = time.perf_counter()
            outcome = fn()
            times[name].append(time.perf_counter() - start)
            scores[name] = score(outcome)
    return {name: statistics.median(t) for name, t in times.items()}, scores
