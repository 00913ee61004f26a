"""JSON (``--format json``): the data itself, not a view — a result exactly as its file holds it,
a comparison as its documented dictionary (sorted keys, finite numbers only)."""

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
