"""JSON (``--format json``): the data itself, not a view — a result exactly as its file holds it,
a comparison and a ranking as their documented dictionaries (sorted keys, finite numbers only;
the ranking's is the contract of docs/statistics.md)."""

from __future__ import annotations

from typing import Any

from dflbench.report import RENDERERS, Renderer
from dflbench.results.io import dumps, dumps_data


@RENDERERS.register("json")
class Json(Renderer):
    def suite(self, result: Any) -> str:
        return dumps(result)

    def comparison(self, comparison: Any) -> str:
        return dumps_data(comparison.to_dict())

    def ranking(self, ranking: Any) -> str:
        return dumps_data(ranking.to_dict())
