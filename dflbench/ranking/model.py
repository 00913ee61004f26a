"""The verdict across datasets as data: what ``dflbench rank`` reports and its JSON contract
(docs/statistics.md). Built by :mod:`dflbench.ranking.compute`; renderers only format it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Version of the ``dflbench rank --format json`` document; bumped only on a breaking change.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CellStat:
    """One (dataset, treatment): a metric over its ``ok`` runs (seeds × repeats × folds).

    ``n`` runs had a finite value, of ``n_runs`` runs in all; ``mean`` is None when ``n`` is 0.
    """

    mean: float | None
    std: float | None
    n: int
    n_runs: int


@dataclass(frozen=True)
class HypothesisTest:
    """A test over datasets; ``statistic``/``p_value`` are None when it was skipped or is
    undefined, with the reason in ``note``."""

    statistic: float | None
    p_value: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "p_value": self.p_value}


@dataclass(frozen=True)
class BayesProbs:
    """Bayesian signed-rank test of one pair (Benavoli et al., JMLR 2017): the posterior
    probabilities that ``a`` is better by more than ``rope``, that the two are practically
    equivalent (within ``rope``), and that ``b`` is better by more than ``rope``."""

    rope: float
    p_a: float
    p_equivalent: float
    p_b: float

    def to_dict(self) -> dict[str, Any]:
        return {"rope": self.rope, "p_a": self.p_a, "p_equivalent": self.p_equivalent,
                "p_b": self.p_b}


@dataclass
class PairTest:
    """Treatment ``a`` against ``b`` over the ranked datasets: ``wins``/``ties``/``losses`` count
    the datasets where ``a``'s mean is better / equal / worse; ``p_value`` is the two-sided
    Wilcoxon signed-rank test, ``p_holm`` the same after Holm's correction over every pair;
    ``favours_a``: the signed ranks lean towards ``a`` (the direction a significant test means)."""

    a: str
    b: str
    wins: int
    ties: int
    losses: int
    p_value: float | None
    p_holm: float | None = None
    bayes: BayesProbs | None = None
    note: str = ""
    favours_a: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "wins": self.wins, "ties": self.ties,
                "losses": self.losses, "p_value": self.p_value, "p_holm": self.p_holm,
                "bayes": None if self.bayes is None else self.bayes.to_dict()}


@dataclass
class MetricRanking:
    """Every treatment ranked on every dataset for one metric, the tests, and the verdict.

    ``datasets`` are the ranked datasets (each treatment has a value there); ``cells`` holds every
    dataset of the files, also those ``left_out`` (with the reason), so exports can show them.
    """

    metric: str
    title: str
    higher_is_better: bool
    datasets: list[str]
    treatments: list[str]
    cells: dict[str, dict[str, CellStat]]
    ranks: dict[str, dict[str, float]]
    average_ranks: dict[str, float]
    friedman: HypothesisTest
    iman_davenport: HypothesisTest
    critical_difference: float | None
    groups: list[list[str]]
    pairwise: list[PairTest]
    left_out: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verdict: list[str] = field(default_factory=list)

    @property
    def n_datasets(self) -> int:
        return len(self.datasets)

    def means(self) -> dict[str, dict[str, float]]:
        """Each ranked dataset's mean per treatment (every one is present by construction)."""
        return {d: {t: self.cells[d][t].mean for t in self.treatments}  # type: ignore[misc]
                for d in self.datasets}

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets, "treatments": self.treatments,
            "n_datasets": self.n_datasets, "higher_is_better": self.higher_is_better,
            "average_ranks": self.average_ranks, "ranks": self.ranks, "means": self.means(),
            "friedman": self.friedman.to_dict(), "iman_davenport": self.iman_davenport.to_dict(),
            "critical_difference": self.critical_difference,
            "pairwise": [p.to_dict() for p in self.pairwise],
            "verdict": "\n".join(self.verdict),
            # Beyond the contract's keys: what the CD cannot separate, and what was left out.
            "nemenyi_groups": self.groups, "left_out": self.left_out, "notes": self.notes,
        }


@dataclass
class Ranking:
    """``dflbench rank``'s whole answer: one :class:`MetricRanking` per metric, in order."""

    files: list[str]
    datasets: list[str]
    treatments: list[str]
    alpha: float
    rope: float
    baseline: str | None
    metrics: dict[str, MetricRanking]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "dflbench-rank", "format_version": FORMAT_VERSION, "files": self.files,
                "alpha": self.alpha, "rope": self.rope, "baseline": self.baseline,
                "notes": self.notes,
                "metrics": {name: m.to_dict() for name, m in self.metrics.items()}}
