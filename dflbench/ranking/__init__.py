"""Verdicts across datasets: rank treatments on every dataset and test the differences
(Demšar, JMLR 2006; Benavoli, Corani, Mangili, JMLR 2016; Benavoli et al., JMLR 2017).

:mod:`.collect` merges result files into a dataset × treatment grid, :mod:`.frequentist` and
:mod:`.bayes` hold the tests, :mod:`.compute` puts them together per metric, :mod:`.verdict`
says it in words and :mod:`.model` is the result as data (``dflbench rank --format json``).
docs/statistics.md explains what each test assumes and how to read the verdict.
"""

from dflbench.ranking.compute import DEFAULT_ALPHA, DEFAULT_ROPE, check_rope, rank_results
from dflbench.ranking.model import (
    BayesProbs,
    CellStat,
    HypothesisTest,
    MetricRanking,
    PairTest,
    Ranking,
)

__all__ = [
    "DEFAULT_ALPHA", "DEFAULT_ROPE", "BayesProbs", "CellStat", "HypothesisTest", "MetricRanking",
    "PairTest", "Ranking", "check_rope", "rank_results",
]
