"""Tidy CSV (``--format csv``) for notebooks: one row per dataset × loss × metric with the mean,
std and number of runs behind it and the loss's rank on that dataset (empty where the dataset is
left out of the ranking). Full precision; empty cells for missing values."""

from __future__ import annotations

import csv
import io
from typing import Any

from dflbench.ranking import Ranking
from dflbench.report import RENDERERS, Renderer
from dflbench.report.suite_view import suite_ranking

COLUMNS = ("dataset", "treatment", "metric", "mean", "std", "n", "rank")


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def tidy(ranking: Ranking) -> str:
    """The CSV text of every (dataset, treatment, metric) the ranking holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for metric, m in ranking.metrics.items():
        for dataset, row in m.cells.items():
            for treatment, cell in row.items():
                rank = m.ranks.get(dataset, {}).get(treatment)
                writer.writerow([dataset, treatment, metric, _number(cell.mean),
                                 _number(cell.std), cell.n, _number(rank)])
    return buffer.getvalue()


@RENDERERS.register("csv")
class Csv(Renderer):
    draws = ("suite", "ranking")

    def suite(self, result: Any) -> str:
        return tidy(suite_ranking(result))

    def ranking(self, ranking: Ranking) -> str:
        return tidy(ranking)
