"""Merge result files into one dataset × treatment grid of runs, and summarise a cell.

Datasets are taken from every file, in file order; treatments are aligned across files by their
label (the name reports show). A dataset may appear in one file only: the tests across datasets
treat every dataset as one independent observation, so the same dataset in two files would count
twice, and merging its cells would mix runs of possibly different set-ups. Such input is refused
(rank the files one by one, or rerun the dataset in one suite).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from dflbench.errors import ConfigError
from dflbench.metrics import METRICS
from dflbench.ranking.model import CellStat
from dflbench.results.model import RunRecord, SuiteResult
from dflbench.stats import describe


@dataclass
class Grid:
    """The runs of every (dataset, treatment) across the merged files."""

    files: list[str]
    datasets: list[str]
    treatments: list[str]
    runs: dict[tuple[str, str], list[RunRecord]]
    #: The metrics the files' suites ask for, in order (every known metric when none says).
    metrics: list[str]
    notes: list[str] = field(default_factory=list)

    def cell(self, dataset: str, treatment: str, metric: str) -> CellStat:
        return cell_stat(self.runs.get((dataset, treatment), []), metric)


def cell_stat(runs: Sequence[RunRecord], metric: str) -> CellStat:
    """Mean and std of ``metric`` over the ``ok`` runs that hold a finite value of it."""
    values = [float(v) for r in runs if r.ok and isinstance(v := r.metrics.get(metric), (int, float))
              and math.isfinite(v)]
    d = describe(values)
    return CellStat(d.mean, d.std, len(values), len(runs))


def merge(results: Sequence[tuple[str, SuiteResult]]) -> Grid:
    """One grid from the result files (``(name, result)`` pairs, names used in messages)."""
    owner: dict[str, str] = {}
    treatments: list[str] = []
    runs: dict[tuple[str, str], list[RunRecord]] = {}
    notes: list[str] = []
    setups: dict[str, tuple[str, RunRecord]] = {}
    for name, result in results:
        for dataset in result.dataset_names:
            if dataset in owner:
                raise ConfigError(
                    f"dataset '{dataset}' is in both {owner[dataset]} and {name}; a dataset can "
                    "count only once across datasets (rank the files separately, or run it in "
                    "one suite)")
            owner[dataset] = name
        for run in result.runs:
            runs.setdefault((run.dataset, run.label), []).append(run)
            if run.label not in treatments:
                treatments.append(run.label)
            first = setups.setdefault(run.label, (name, run))
            # A tuned treatment's chosen parameters differ from split to split by design.
            tuned = run.tuning is not None or first[1].tuning is not None
            if not tuned and first[1].treatment.setup() != run.treatment.setup():
                notes.append(f"{run.label}: {first[0]} runs {first[1].treatment.describe()}, "
                             f"{name} runs {run.treatment.describe()}; aligned by label")
        if not result.complete:
            notes.append(f"{name} is incomplete (its run was interrupted)")
    return Grid([n for n, _ in results], list(owner), treatments, runs, _metrics(results),
                list(dict.fromkeys(notes)))


def _metrics(results: Sequence[tuple[str, SuiteResult]]) -> list[str]:
    named = [m for _, r in results for m in r.metric_names if m in METRICS]
    return list(dict.fromkeys(named)) or list(METRICS)
