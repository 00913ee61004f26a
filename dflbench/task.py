"""One dataset task: train its (treatment × seed) grid in the batched engine and score every model
on the test split. A task's output is plain typed data, so any executor can carry it back and the
task cache can store it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dflbench.config import LossEntry, Suite
from dflbench.errors import DflbenchError
from dflbench.prepare import PreparedTask
from dflbench.results.model import (
    ClassMetrics,
    DatasetInfo,
    Learned,
    RunRecord,
    RunStatus,
    TrainInfo,
    Treatment,
)

Advance = Callable[[float], None]


@dataclass(frozen=True)
class TaskOutput:
    """What one dataset task produced: the dataset as prepared and one record per model."""

    info: DatasetInfo
    runs: tuple[RunRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskOutput:
        return cls(DatasetInfo.from_dict(d["info"]), tuple(RunRecord.from_dict(r) for r in d["runs"]))


def treatment_of(lo: LossEntry) -> Treatment:
    from dflbench.losses import LOSSES

    return Treatment(lo.label, lo.name, LOSSES.get(lo.name).title, dict(lo.params), lo.sampler,
                     dict(lo.sampler_params))


def _record(task: PreparedTask, lo: LossEntry, seed: int, **fields: Any) -> RunRecord:
    counts = task.info.class_counts
    return RunRecord(task.entry.name, treatment_of(lo), seed, fields.pop("status", RunStatus.FAILED),
                     class_counts={"train": counts["train"], "test": counts["test"]}, **fields)


def failed_runs(task: PreparedTask, suite: Suite, error: str) -> TaskOutput:
    """The output of a task whose whole grid failed with ``error``."""
    return TaskOutput(task.info, tuple(_record(task, lo, seed, error=error)
                                       for lo in suite.losses for seed in suite.seeds))


def run_task(task: PreparedTask, suite: Suite, device: Any, advance: Advance | None = None,
             workers: int = 1) -> TaskOutput:
    """Train the dataset's grid; one record per (treatment, seed), in suite order.

    Treatments without a sampler share one stack over all seeds. A sampler changes the training
    set, so each (sampler, seed) trains on its own resampled set; one that cannot apply fails only
    its own runs, with the reason recorded.
    """
    runs: dict[tuple[str, int], RunRecord] = {}
    plain = [lo for lo in suite.losses if lo.sampler is None]
    if plain:
        runs.update(_train(task, suite, device, advance, plain, suite.seeds, task.data,
                           task.fit_counts, workers))
    groups: dict[str, list[LossEntry]] = {}
    for lo in suite.losses:
        if lo.sampler is not None:
            key = json.dumps([lo.sampler, lo.sampler_params], sort_keys=True)
            groups.setdefault(key, []).append(lo)
    for group in groups.values():
        for seed in suite.seeds:
            runs.update(_resampled(task, suite, device, advance, group, seed, workers))
    return TaskOutput(task.info, tuple(runs[(lo.label, seed)] for lo in suite.losses
                                       for seed in suite.seeds))


def _resampled(task: PreparedTask, suite: Suite, device: Any, advance: Advance | None,
               group: list[LossEntry], seed: int, workers: int) -> dict[tuple[str, int], RunRecord]:
    """One sampler's treatments for one seed, trained on that seed's resampled training set."""
    from dflbench.samplers import resample

    sampler, params = group[0].sampler, group[0].sampler_params
    try:
        X_res, y_res = resample(sampler, params, task.data.X_train, task.data.y_train, seed)
    except DflbenchError as exc:
        if advance is not None:
            advance(len(group))
        return {(lo.label, seed): _record(task, lo, seed, error=f"{exc}") for lo in group}
    data = replace(task.data, X_train=X_res, y_train=y_res)
    counts = tuple(np.bincount(y_res, minlength=len(task.class_names)).tolist())
    trained = _train(task, suite, device, advance, group, (seed,), data, counts, workers)
    resampled = dict(zip(task.class_names, counts))
    return {key: replace(run, train=replace(run.train, resampled_counts=resampled))
            for key, run in trained.items()}


def _train(task: PreparedTask, suite: Suite, device: Any, advance: Advance | None,
           losses: Sequence[LossEntry], seeds: Sequence[int], data: Any,
           counts: Sequence[int], workers: int) -> dict[tuple[str, int], RunRecord]:
    """Train one set of treatments on one training set; records keyed by (label, seed)."""
    from dflbench.engine import Treatment as EngineTreatment
    from dflbench.engine import train_models

    per_epoch = 1.0 / suite.train.epochs

    def on_epoch(n_models: int) -> None:
        if advance is not None:
            advance(n_models * per_epoch)

    treatments = [EngineTreatment(lo.label, lo.name, dict(lo.params)) for lo in losses]
    outcomes = train_models(data, treatments, seeds, counts, suite.model, suite.train, device,
                            on_epoch, workers)
    by_label = {lo.label: lo for lo in losses}
    return {(out.treatment, out.seed): _scored(task, by_label[out.treatment], out)
            for out in outcomes}


def _scored(task: PreparedTask, lo: LossEntry, out: Any) -> RunRecord:
    """A trained model's record: how training went and, unless it diverged, its test metrics,
    confusion matrix and calibration bins."""
    from dflbench.metrics import calibration_bins, compute_metrics, confusion_counts
    from dflbench.results.model import Calibration, History

    learned = {name: Learned(v["value"], tuple(v["trajectory"])) for name, v in out.learned.items()}
    history = History(tuple(out.history["loss"]), tuple(out.history.get("validation", ())),
                      out.history.get("monitor"))
    train = TrainInfo(out.epochs_run, out.seconds, out.stack_size, out.best_epoch, learned,
                      history=history)
    metrics, per_class, confusion, calibration = {}, (), None, None
    if out.proba is not None:
        metrics, rows = compute_metrics(task.y_test, out.proba, task.class_names, task.minority)
        per_class = tuple(ClassMetrics(**row) for row in rows)
        confusion = tuple(map(tuple, confusion_counts(task.y_test, out.proba, len(task.class_names))))
        calibration = Calibration(*map(tuple, calibration_bins(out.proba, task.y_test)))
    return _record(task, lo, out.seed, status=RunStatus(out.status), train=train, metrics=metrics,
                   per_class=per_class, error=out.error, confusion=confusion, calibration=calibration)


def execute_task(task: PreparedTask, suite: Suite, device: str,
                 advance: Advance | None = None, workers: int = 1) -> TaskOutput:
    """One dataset's grid, wherever an executor runs it (``workers`` threads each train a part of
    the dataset's stack; see :func:`dflbench.runner.stack_workers`)."""
    import torch

    from dflbench.engine import resolve_device

    # One torch thread per worker thread (measured figures at dflbench.engine.STACK_PARTS).
    torch.set_num_threads(1)
    return run_task(task, suite, resolve_device(device), advance, workers)
