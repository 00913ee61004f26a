"""Renderers: one module per output format in :mod:`.formats`, each a peer registered in
:data:`RENDERERS` with one decorator, drawing the same views (:mod:`.suite_view`, :mod:`.compare_view`), so every format
shows the same numbers. Renderers never compute: they select and format what a result holds.

``run``, ``show`` and ``compare`` all pick their renderer here by the ``--format`` name.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from dflbench.registry import Registry

if TYPE_CHECKING:
    from dflbench.compare import Comparison
    from dflbench.results.model import SuiteResult


class Renderer:
    """One output format. Each method returns text, or a rich renderable for the terminal."""

    def suite(self, result: SuiteResult) -> Any:
        raise NotImplementedError

    def comparison(self, comparison: Comparison) -> Any:
        raise NotImplementedError


RENDERERS: Registry[type[Renderer]] = Registry("output format")


def renderer(name: str) -> Renderer:
    """The renderer of format ``name`` (an unknown name is a ConfigError listing the valid ones)."""
    return RENDERERS.get(name)()


def _discover() -> None:
    from dflbench.report import formats

    for info in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{info.name}")


_discover()
