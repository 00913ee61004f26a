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
from dflbench.prepare import Fold, PreparedTask
from dflbench.results.model import (
    ClassMetrics,
    DatasetInfo,
    Learned,
    RunRecord,
    RunStatus,
    TrainInfo,
    Treatment,
    TuningRecord,
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


def models_per_task(suite: Suite) -> int:
    """Models one dataset trains: per split, every treatment × seed, and before that every
    tuning configuration × seed of the tuned treatments."""
    from dflbench.tuning import configurations

    n_splits = (suite.protocol.folds or 1) * suite.protocol.repeats
    n_configs = sum(len(configurations(lo, suite.tuning, suite.split_seed))
                    for lo in suite.losses if lo.tune)
    return n_splits * len(suite.seeds) * (len(suite.losses) + n_configs)


def _record(task: PreparedTask, fold: Fold, lo: LossEntry, seed: int, **fields: Any) -> RunRecord:
    counts = fold.class_counts
    return RunRecord(task.entry.name, treatment_of(lo), seed, fields.pop("status", RunStatus.FAILED),
                     repeat=fold.repeat, fold=fold.fold,
                     class_counts={"train": counts["train"], "test": counts["test"]}, **fields)


def failed_runs(task: PreparedTask, suite: Suite, error: str) -> TaskOutput:
    """The output of a task whose whole grid failed with ``error``."""
    return TaskOutput(task.info, tuple(_record(task, fold, lo, seed, error=error) for fold in task.folds
                                       for lo in suite.losses for seed in suite.seeds))


def run_task(task: PreparedTask, suite: Suite, device: Any, advance: Advance | None = None,
             workers: int = 1) -> TaskOutput:
    """Train the dataset's grid on every split of the protocol: one record per (split, treatment,
    seed), split-major, treatments in suite order. Tuned treatments are first tuned on the
    split's tuning carve, then their chosen configuration is refitted on the whole training fold
    (as scikit-learn's GridSearchCV refits)."""
    runs: list[RunRecord] = []
    for fold in task.folds:
        losses, records = list(suite.losses), {}
        if suite.tuned:
            assert fold.tune is not None
            chosen = _tune(task, fold.tune, suite, device, advance, workers)
            losses = [chosen[lo.label][0] if lo.label in chosen else lo for lo in suite.losses]
            records = {label: record for label, (_, record) in chosen.items()}
        trained = _train_treatments(task, fold, suite, device, advance, losses, workers)
        runs += [replace(trained[(lo.label, seed)], tuning=records.get(lo.label))
                 for lo in losses for seed in suite.seeds]
    return TaskOutput(task.info, tuple(runs))


def _tune(task: PreparedTask, carve: Fold, suite: Suite, device: Any, advance: Advance | None,
          workers: int) -> dict[str, tuple[LossEntry, TuningRecord]]:
    """Every tuned treatment's configurations × seeds trained on the tuning carve's fit rows and
    scored on its validation rows; per treatment, the configuration with the best mean score over
    seeds (the first among equals), configured for the refit, and how it was chosen."""
    from dflbench.metrics import METRICS
    from dflbench.tuning import config_text, configurations, configured

    assert suite.tuning is not None
    metric = suite.tuning.metric
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    tuned = [lo for lo in suite.losses if lo.tune]
    grids = {lo.label: configurations(lo, suite.tuning, suite.split_seed) for lo in tuned}
    candidates = {(lo.label, i): configured(lo, config, f"{lo.label} [{config_text(config)}]")
                  for lo in tuned for i, config in enumerate(grids[lo.label])}
    trained = _train_treatments(task, carve, suite, device, advance, list(candidates.values()),
                                workers)
    chosen = {}
    for lo in tuned:
        grid = grids[lo.label]
        scores = [_mean_score(trained, candidates[(lo.label, i)].label, suite.seeds, metric)
                  for i in range(len(grid))]
        best = grid[int(np.argmax([-np.inf if v is None else sign * v for v in scores]))]
        chosen[lo.label] = (configured(lo, best),
                            TuningRecord(metric, tuple(grid), tuple(scores), best))
    return chosen


def _mean_score(trained: dict[tuple[str, int], RunRecord], label: str, seeds: Sequence[int],
                metric: str) -> float | None:
    values = [trained[(label, s)].metrics.get(metric) for s in seeds if trained[(label, s)].ok]
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _train_treatments(task: PreparedTask, fold: Fold, suite: Suite, device: Any,
                      advance: Advance | None, losses: Sequence[LossEntry],
                      workers: int) -> dict[tuple[str, int], RunRecord]:
    """Train ``losses`` × seeds on one fold: records keyed by (label, seed).

    Treatments without a sampler share one stack over all seeds. A sampler changes the training
    set, so each (sampler, seed) trains on its own resampled set; one that cannot apply fails only
    its own runs, with the reason recorded.
    """
    runs: dict[tuple[str, int], RunRecord] = {}
    plain = [lo for lo in losses if lo.sampler is None]
    if plain:
        runs.update(_train(task, fold, suite, device, advance, plain, suite.seeds, fold.data,
                           fold.fit_counts, workers))
    groups: dict[str, list[LossEntry]] = {}
    for lo in losses:
        if lo.sampler is not None:
            key = json.dumps([lo.sampler, lo.sampler_params], sort_keys=True)
            groups.setdefault(key, []).append(lo)
    for group in groups.values():
        runs.update(_sampler_group(task, fold, suite, device, advance, group, workers))
    return runs


def _sampler_group(task: PreparedTask, fold: Fold, suite: Suite, device: Any,
                   advance: Advance | None, group: list[LossEntry],
                   workers: int) -> dict[tuple[str, int], RunRecord]:
    """One sampler's treatments over every seed, each seed on the training set the sampler draws
    with that seed. When every seed's set has the same size and class counts (oversampling to
    balance does), all seeds share one stack through per-model rows; else each seed trains alone.
    A seed the sampler cannot serve fails only its own runs, with the reason."""
    from dflbench.samplers import resample

    sampler, params = group[0].sampler, group[0].sampler_params
    sets, runs = {}, {}
    for seed in suite.seeds:
        try:
            sets[seed] = resample(sampler, params, fold.data.X_train, fold.data.y_train, seed)
        except DflbenchError as exc:
            if advance is not None:
                advance(len(group))
            runs.update({(lo.label, seed): _record(task, fold, lo, seed, error=f"{exc}")
                         for lo in group})
    n_classes = len(task.class_names)
    counts = {seed: tuple(np.bincount(y, minlength=n_classes).tolist()) for seed, (_, y) in sets.items()}
    if len(sets) > 1 and len(set(counts.values())) == 1:
        n = len(next(iter(sets.values()))[1])
        data = replace(fold.data, X_train=np.concatenate([X for X, _ in sets.values()]),
                       y_train=np.concatenate([y for _, y in sets.values()]),
                       rows={seed: np.arange(i * n, (i + 1) * n) for i, seed in enumerate(sets)})
        trained = _train(task, fold, suite, device, advance, group, tuple(sets), data,
                         next(iter(counts.values())), workers)
    else:
        trained = {}
        for seed, (X, y) in sets.items():
            data = replace(fold.data, X_train=X, y_train=y)
            trained.update(_train(task, fold, suite, device, advance, group, (seed,), data,
                                  counts[seed], workers))
    runs.update({(label, seed): replace(run, train=replace(
        run.train, resampled_counts=dict(zip(task.class_names, counts[seed]))))
        for (label, seed), run in trained.items()})
    return runs


def _train(task: PreparedTask, fold: Fold, suite: Suite, device: Any, advance: Advance | None,
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
    # A segmentation result shows its sample images (first split) as the first seed predicts them.
    return {(out.treatment, out.seed): _scored(task, fold, by_label[out.treatment], out,
                                               fold.samples is not None
                                               and out.seed == suite.seeds[0])
            for out in outcomes}


def _predictions(fold: Fold, proba: np.ndarray) -> tuple[str, ...]:
    """The predicted masks of the fold's sample images, encoded for the result file."""
    from dflbench.results import pictures

    assert fold.samples is not None
    return tuple(pictures.encode(proba[i].argmax(axis=-1)) for i in fold.samples["positions"])


def _scored(task: PreparedTask, fold: Fold, lo: LossEntry, out: Any,
            show: bool = False) -> RunRecord:
    """A trained model's record: how training went and, unless it diverged, its test metrics,
    confusion matrix and calibration bins (over labelled pixels, for segmentation), and with
    ``show`` its predictions of the fold's sample images."""
    from dflbench.metrics import calibration_bins, compute_metrics, confusion_counts, pixels
    from dflbench.results.model import Calibration, History

    learned = {name: Learned(v["value"], tuple(v["trajectory"])) for name, v in out.learned.items()}
    history = History(tuple(out.history["loss"]), tuple(out.history.get("validation", ())),
                      out.history.get("monitor"))
    train = TrainInfo(out.epochs_run, out.seconds, out.stack_size, out.best_epoch, learned,
                      history=history)
    metrics, per_class, confusion, calibration, predictions = {}, (), None, None, ()
    if out.proba is not None:
        y, proba = pixels(fold.y_test, out.proba)
        bins = calibration_bins(proba, y)
        metrics, rows = compute_metrics(y, proba, task.class_names, fold.minority,
                                        segmentation=task.info.kind == "segmentation", bins=bins)
        per_class = tuple(ClassMetrics(**row) for row in rows)
        confusion = tuple(map(tuple, confusion_counts(y, proba, len(task.class_names))))
        calibration = Calibration(*map(tuple, bins))
        if show:
            predictions = _predictions(fold, out.proba)
    return _record(task, fold, lo, out.seed, status=RunStatus(out.status), train=train,
                   metrics=metrics, per_class=per_class, error=out.error, confusion=confusion,
                   calibration=calibration, predictions=predictions)


def execute_task(task: PreparedTask, suite: Suite, device: str,
                 advance: Advance | None = None, workers: int = 1) -> TaskOutput:
    """One dataset's grid, wherever an executor runs it (``workers`` threads each train a part of
    the dataset's stack; see :func:`dflbench.runner.stack_workers`)."""
    import torch

    from dflbench.config.plugins import load_for
    from dflbench.engine import resolve_device

    if suite.plugin_refs:
        load_for(suite)  # a worker process has not run the suite's plugins yet
    # One torch thread per worker thread (measured figures at dflbench.engine.STACK_PARTS).
    torch.set_num_threads(1)
    return run_task(task, suite, resolve_device(device), advance, workers)
