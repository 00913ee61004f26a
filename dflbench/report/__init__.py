"""Renderers: one module per output format in :mod:`.formats`, each a peer registered in
:data:`RENDERERS` with one decorator, drawing the same views (:mod:`.suite_view`,
:mod:`.compare_view`, :mod:`.rank_view`), so every format shows the same numbers. Renderers never
compute: they select and format what a result holds.

``run``, ``show``, ``compare`` and ``rank`` all pick their renderer here by the ``--format`` name;
a format says which of the three things it draws (``Renderer.draws``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from dflbench.registry import Registry

if TYPE_CHECKING:
    from dflbench.compare import Comparison
    from dflbench.ranking import Ranking
    from dflbench.results.model import SuiteResult

#: What a renderer can draw, and the command that asks for each.
KINDS = {"suite": "run and show", "comparison": "compare", "ranking": "rank"}


class Renderer:
    """One output format. Each method returns text, or a rich renderable for the terminal."""

    #: The kinds of report (keys of :data:`KINDS`) this format draws.
    draws: tuple[str, ...] = ("suite", "comparison", "ranking")

    def suite(self, result: SuiteResult) -> Any:
        raise NotImplementedError

    def comparison(self, comparison: Comparison) -> Any:
        raise NotImplementedError

    def ranking(self, ranking: Ranking) -> Any:
        raise NotImplementedError


RENDERERS: Registry[type[Renderer]] = Registry("output format")


def renderer(name: str, kind: str | None = None) -> Renderer:
    """The renderer of format ``name`` (an unknown name is a ConfigError listing the valid ones);
    with ``kind``, a format that cannot draw it is a ConfigError too (see :func:`check_format`)."""
    if kind is not None:
        check_format(name, kind)
    return RENDERERS.get(name)()


def check_format(name: str, kind: str) -> None:
    """Refuse, before any work, a ``--format`` that cannot draw ``kind`` (csv has no comparison)."""
    from dflbench.errors import ConfigError

    if kind not in RENDERERS.get(name).draws:
        valid = [n for n in RENDERERS.names() if kind in RENDERERS.get(n).draws]
        raise ConfigError(f"--format {name} does not apply to {KINDS[kind]} "
                          f"(valid: {', '.join(valid)})")


def _discover() -> None:
    from dflbench.report import formats

    for info in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{info.name}")


_discover()
