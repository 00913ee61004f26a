"""Runs a suite: prepare every dataset (all validation before any training), then train each
dataset's (treatment × seed) grid and collect result rows. Nothing here prints; progress goes to a
listener the caller provides (the CLI draws a rich progress bar from it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

import numpy as np

from dflbench.cache import TaskCache, task_config, task_key
from dflbench.config import DatasetEntry, LossEntry, Suite
from dflbench.errors import ConfigError, DflbenchError
from dflbench.executors import Executor, SerialExecutor
from dflbench.results import SuiteResult, environment
from dflbench.stats import summarize


class ProgressListener(Protocol):
    """Receives progress in units of trained models (fractions while a dataset trains)."""

    def start(self, n_datasets: int, models_per_dataset: int) -> None: ...
    def task_started(self, dataset: str) -> None: ...
    def advance(self, models: float) -> None: ...
    def task_done(self, dataset: str, cached: bool = False) -> None: ...


class Interrupted(Exception):
    """Raised on Ctrl-C / SIGTERM; carries the result of every finished dataset."""

    def __init__(self, partial: SuiteResult) -> None:
        super().__init__("interrupted")
        self.partial = partial


@dataclass(frozen=True)
class PreparedTask:
    """One dataset, split, imbalanced and preprocessed, ready for training."""

    entry: DatasetEntry
    info: dict[str, Any]
    data: Any  # engine.TrainData
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fit_counts: tuple[int, ...]
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    minority: int


def _counts(y: np.ndarray, class_names: Sequence[str]) -> dict[str, int]:
    c = Counter(y.tolist())
    return {name: int(c.get(i, 0)) for i, name in enumerate(class_names)}


def prepare_task(entry: DatasetEntry, suite: Suite) -> PreparedTask:
    """Load → stratified split → imbalance on train only → validation carve → preprocess."""
    from dflbench.datasets import SOURCES
    from dflbench.datasets.split import stratified_split, validation_split
    from dflbench.engine import TrainData
    from dflbench.imbalance import apply_imbalance, imbalance_ratio, parse_imbalance
    from dflbench.preprocess import preprocessor_for

    where = f"dataset '{entry.name}'"
    try:
        ds = SOURCES.build(entry.source, dict(entry.params), reserved={"name": entry.name})
        names = ds.class_names
        train_idx, test_idx = stratified_split(ds.y, suite.test_size, suite.split_seed,
                                               class_names=names)
        X_train, y_train = _take(ds.X, train_idx), ds.y[train_idx]
        X_test, y_test = _take(ds.X, test_idx), ds.y[test_idx]
        spec = None
        if entry.imbalance is not None:
            spec = parse_imbalance(entry.imbalance, names)
            X_train, y_train = apply_imbalance(X_train, y_train, spec, suite.split_seed)
        X_val = y_val = None
        X_fit, y_fit = X_train, y_train
        es = suite.train.early_stopping
        if es is not None:
            fit_idx, val_idx = validation_split(y_train, es.validation, suite.split_seed)
            X_fit, y_fit = _take(X_train, fit_idx), y_train[fit_idx]
            X_val, y_val = _take(X_train, val_idx), y_train[val_idx]
        pre = preprocessor_for(ds.kind).fit(X_fit)
    except DflbenchError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    train_counts = _counts(y_train, names)
    fit_counts = tuple(_counts(y_fit, names).values())
    if min(fit_counts) == 0:
        empty = [n for n, c in zip(names, fit_counts) if c == 0]
        raise ConfigError(f"{where}: class {', '.join(empty)} has no training samples left")
    data = TrainData(
        X_train=pre.transform(X_fit), y_train=y_fit.astype(np.int64),
        X_val=None if X_val is None else pre.transform(X_val),
        y_val=None if y_val is None else y_val.astype(np.int64),
        X_test=pre.transform(X_test), n_classes=len(names),
    )
    minority = int(np.argmin(fit_counts))
    info = {
        "name": entry.name, "source": entry.source, "description": ds.description,
        "n_samples": len(ds.y), "n_features": int(np.prod(data.X_train.shape[1:])),
        "kind": ds.kind, "input_shape": list(data.X_train.shape[1:]),
        "n_classes": len(names), "class_names": list(names),
        "class_counts": {"train": train_counts, "test": _counts(y_test, names),
                         **({"validation": _counts(y_val, names)} if y_val is not None else {})},
        "imbalance": None if spec is None else spec.as_dict(),
        "imbalance_ratio": float(imbalance_ratio(list(train_counts.values()))),
        "minority_class": names[minority],
    }
    return PreparedTask(entry, info, data, y_test, names, fit_counts, train_counts,
                        info["class_counts"]["test"], minority)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx].reset_index(drop=True) if hasattr(X, "iloc") else X[idx]


def check_losses(suite: Suite, task: PreparedTask) -> None:
    """Build every loss against this dataset's class counts, so bad parameters fail before training."""
    from dflbench.losses import get_loss

    for i, lo in enumerate(suite.losses):
        try:
            get_loss(lo.name, class_counts=list(task.fit_counts), **lo.params)
        except (DflbenchError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{suite.source}: losses[{i}] ({lo.label}) on dataset '{task.entry.name}': {exc}"
            ) from None


def check_model(suite: Suite, task: PreparedTask) -> None:
    """Build the suite's model once for this dataset's shape, so a mismatch fails before training."""
    from dflbench.models import MODELS

    shape = task.data.X_train.shape[1:]
    try:
        MODELS.build(suite.model.name, dict(suite.model.params), reserved={
            "n_models": 1, "n_features": int(np.prod(shape)), "input_shape": tuple(shape),
            "n_classes": len(task.class_names), "seeds": [0]})
    except (DflbenchError, ValueError, TypeError) as exc:
        raise ConfigError(f"{suite.source}: model '{suite.model.name}' on dataset "
                          f"'{task.entry.name}': {exc}") from None


def prepare(suite: Suite) -> list[PreparedTask]:
    """Every dataset prepared and every loss checked: all input errors surface here."""
    tasks = [prepare_task(entry, suite) for entry in suite.datasets]
    for task in tasks:
        check_losses(suite, task)
        check_model(suite, task)
        if suite.train.augment.active and task.info["kind"] != "image":
            raise ConfigError(f"{suite.source}: train.augment: dataset '{task.entry.name}' is "
                              "tabular; shifts and flips apply to image datasets only")
    return tasks


def run_task(task: PreparedTask, suite: Suite, device: Any,
             listener: ProgressListener | None = None, workers: int = 1) -> list[dict[str, Any]]:
    """Train the dataset's grid; returns one run row per (treatment, seed), in suite order.

    Treatments without a sampler share one stack over all seeds. A sampler changes the training
    set, so each (sampler, seed) trains on its own resampled set; one that cannot apply fails only
    its own runs, with the reason recorded.
    """
    from dflbench.samplers import resample

    rows: dict[tuple[str, int], dict[str, Any]] = {}
    plain = [lo for lo in suite.losses if lo.sampler is None]
    if plain:
        rows.update(_train(task, suite, device, listener, plain, suite.seeds, task.data,
                           task.fit_counts, workers))
    groups: dict[str, list[LossEntry]] = {}
    for lo in suite.losses:
        if lo.sampler is not None:
            groups.setdefault(json.dumps([lo.sampler, lo.sampler_params], sort_keys=True), []).append(lo)
    for group in groups.values():
        sampler, params = group[0].sampler, group[0].sampler_params
        for seed in suite.seeds:
            try:
                X_res, y_res = resample(sampler, params, task.data.X_train, task.data.y_train, seed)
            except DflbenchError as exc:
                for lo in group:
                    row = _run_row(task, lo, seed)
                    row["error"] = f"{exc}"
                    rows[(lo.label, seed)] = row
                if listener is not None:
                    listener.advance(len(group))
                continue
            data = replace(task.data, X_train=X_res, y_train=y_res)
            counts = tuple(np.bincount(y_res, minlength=len(task.class_names)).tolist())
            trained = _train(task, suite, device, listener, group, (seed,), data, counts, workers)
            for row in trained.values():
                row["train"]["resampled_counts"] = dict(zip(task.class_names, counts))
            rows.update(trained)
    return [rows[(lo.label, seed)] for lo in suite.losses for seed in suite.seeds]


def _train(task: PreparedTask, suite: Suite, device: Any, listener: ProgressListener | None,
           losses: Sequence[LossEntry], seeds: Sequence[int], data: Any,
           counts: Sequence[int], workers: int) -> dict[tuple[str, int], dict[str, Any]]:
    """Train one set of treatments on one training set; run rows keyed by (label, seed)."""
    from dflbench.engine import Treatment, train_models
    from dflbench.metrics import compute_metrics

    per_epoch = 1.0 / suite.train.epochs

    def on_epoch(n_models: int) -> None:
        if listener is not None:
            listener.advance(n_models * per_epoch)

    treatments = [Treatment(lo.label, lo.name, dict(lo.params)) for lo in losses]
    outcomes = train_models(data, treatments, seeds, counts, suite.model, suite.train, device,
                            on_epoch, workers)
    by_label = {lo.label: lo for lo in losses}
    rows = {}
    for out in outcomes:
        row = _run_row(task, by_label[out.treatment], out.seed)
        row["status"] = out.status
        row["train"] = {"epochs_run": out.epochs_run, "seconds": out.seconds,
                        "stack_size": out.stack_size}
        if out.best_epoch is not None:
            row["train"]["best_epoch"] = out.best_epoch
        if out.learned:
            row["train"]["learned"] = out.learned
        if out.error:
            row["error"] = out.error
        if out.proba is not None:
            row["metrics"], row["per_class"] = compute_metrics(
                task.y_test, out.proba, task.class_names, task.minority)
        rows[(out.treatment, out.seed)] = row
    return rows


def _run_row(task: PreparedTask, lo: LossEntry, seed: int) -> dict[str, Any]:
    from dflbench.losses import LOSSES

    return {
        "dataset": task.entry.name, "treatment": lo.label, "loss": lo.name,
        "loss_title": LOSSES.get(lo.name).title,
        "loss_params": dict(lo.params), "sampler": lo.sampler,
        "sampler_params": dict(lo.sampler_params), "seed": seed, "status": "failed",
        "metrics": {}, "per_class": [], "train": {},
        "class_counts": {"train": task.train_counts, "test": task.test_counts},
    }


def failed_rows(task: PreparedTask, suite: Suite, error: str) -> list[dict[str, Any]]:
    """Rows recording that a dataset's whole grid failed with ``error``."""
    rows = []
    for lo in suite.losses:
        for seed in suite.seeds:
            row = _run_row(task, lo, seed)
            row["error"] = error
            rows.append(row)
    return rows


def execute_task(task: PreparedTask, suite: Suite, device: str,
                 listener: ProgressListener | None = None, workers: int = 1) -> dict[str, Any]:
    """One dataset's grid, wherever an executor runs it: ``{info, rows}`` (plain, picklable data).

    ``workers`` threads each train a part of the dataset's stack (:func:`stack_workers`).
    """
    import torch

    from dflbench.engine import resolve_device

    # One torch thread per worker thread (measured figures at dflbench.engine.STACK_PARTS).
    torch.set_num_threads(1)
    return {"info": task.info,
            "rows": run_task(task, suite, resolve_device(device), listener, workers)}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers restrict)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def stack_workers(concurrency: int | None) -> int:
    """Threads per dataset task: this machine's cores shared by the ``concurrency`` tasks that run
    on it at once (``--jobs``), at most one per sub-stack (:data:`dflbench.engine.STACK_PARTS`);
    1 when tasks run on a remote cluster of unknown size."""
    from dflbench.engine import STACK_PARTS

    if concurrency is None:
        return 1
    return max(1, min(STACK_PARTS, available_cores() // max(1, concurrency)))


@dataclass(frozen=True)
class PlannedTask:
    """A prepared dataset task with its cache key and, when resuming, its cached result."""

    task: PreparedTask
    key: str
    config: dict[str, Any]
    cached: dict[str, Any] | None


def plan(suite: Suite, device: str = "auto", cache: TaskCache | None = None,
         resume: bool = True) -> tuple[str, list[PlannedTask]]:
    """Validate and prepare every dataset, and look each task up in the cache."""
    from dflbench.engine import resolve_device

    dev = str(resolve_device(device))
    planned = []
    for task in prepare(suite):
        config = task_config(suite, task.entry, dev)
        key = task_key(config)
        cached = cache.get(key) if cache is not None and resume else None
        planned.append(PlannedTask(task, key, config, cached))
    return dev, planned


def run_suite(suite: Suite, device: str = "auto", listener: ProgressListener | None = None, *,
              executor: Executor | None = None, cache: TaskCache | None = None,
              resume: bool = True) -> SuiteResult:
    """Prepare, train (or reuse from the cache) and summarise a whole suite.

    A dataset task that raises is recorded as failed and the others go on. On KeyboardInterrupt,
    raises :class:`Interrupted` holding every finished dataset's result, marked incomplete.
    """
    dev, planned = plan(suite, device, cache, resume)
    executor = executor or SerialExecutor()
    workers = stack_workers(executor.concurrency)
    result = SuiteResult(
        suite={"name": suite.name, "sha256": suite.sha256(), "config": suite.to_dict()},
        environment=environment(dev, workers),
    )
    done: dict[int, dict[str, Any]] = {i: p.cached for i, p in enumerate(planned) if p.cached}
    result.cache = {"reused": [planned[i].task.entry.name for i in sorted(done)], "computed": []}
    if listener is not None:
        listener.start(len(planned), len(suite.losses) * len(suite.seeds))
        for i in sorted(done):
            listener.task_done(planned[i].task.entry.name, cached=True)
    pending = [i for i in range(len(planned)) if i not in done]
    run_one = partial(execute_task, suite=suite, device=dev,
                      listener=listener if executor.in_process else None, workers=workers)
    if listener is not None and executor.in_process:
        run_one = _announcing(run_one, listener)
    try:
        for j, value, error in executor.run(run_one, [planned[i].task for i in pending]):
            p = planned[pending[j]]
            if error is not None:
                value = {"info": p.task.info,
                         "rows": failed_rows(p.task, suite, f"{type(error).__name__}: {error}")}
            elif cache is not None:
                cache.put(p.key, p.config, value)
            done[pending[j]] = value
            result.cache["computed"].append(p.task.entry.name)
            if listener is not None:
                listener.task_done(p.task.entry.name)
    except KeyboardInterrupt:
        _assemble(result, suite, planned, done)
        result.complete = False
        raise Interrupted(result) from None
    finally:
        executor.close()
    _assemble(result, suite, planned, done)
    return result


def _announcing(fn: Any, listener: ProgressListener) -> Any:
    def run(task: PreparedTask) -> dict[str, Any]:
        listener.task_started(task.entry.name)
        return fn(task)

    return run


def _assemble(result: SuiteResult, suite: Suite, planned: list[PlannedTask],
              done: dict[int, dict[str, Any]]) -> None:
    """Datasets and runs of the finished tasks in suite order, and the summary over seeds."""
    result.datasets = [done[i]["info"] for i in sorted(done)]
    result.runs = [row for i in sorted(done) for row in done[i]["rows"]]
    result.summary = summarize(result.runs, [lo.label for lo in suite.losses],
                               [d["name"] for d in result.datasets])
