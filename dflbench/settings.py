"""Process-wide settings that make training faster, applied by whoever owns the process.

Importing or calling the library never applies them: the CLI entry does
(:func:`dflbench.cli.main`), and so do the worker processes the executors run tasks in
(:mod:`dflbench.executors`). A program training through the library may call
:func:`apply_process_settings` itself. They change speed only, never a number.

This module imports neither torch nor numpy, so the CLI can apply them before it knows whether it
will train.
"""

from __future__ import annotations

import os
import sys

_MALLOC_TUNED = False


def apply_process_settings() -> None:
    """Apply every process-wide setting (idempotent): for now the malloc tuning."""
    tune_malloc()


def tune_malloc() -> bool:
    """Keep freed buffers in the process instead of returning them to the OS (glibc only).

    By default glibc serves allocations above a (dynamic) threshold with ``mmap`` and unmaps them
    on free, so every training step re-faults the pages of its activations and gradients
    (hundreds of page faults per step; docs/engine.md). Raising ``M_MMAP_THRESHOLD`` to its
    maximum (32 MiB) and ``M_TRIM_THRESHOLD`` lets freed buffers be reused. Process-wide and
    idempotent; returns whether it applied. ``DFLBENCH_NO_MALLOPT=1`` turns it off.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("DFLBENCH_NO_MALLOPT"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) == 1
        ok = libc.mallopt(m_trim_threshold, 256 << 20) == 1 and ok
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    _MALLOC_TUNED = ok
    return ok

