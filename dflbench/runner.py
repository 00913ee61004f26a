"""Runs a suite: prepare every dataset (all validation before any training), then train each
dataset's (treatment × seed) grid and collect result rows. Nothing here prints; progress goes to a
listener the caller provides (the CLI draws a rich progress bar from it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from dflbench.config import DatasetEntry, Suite
from dflbench.errors import ConfigError, DflbenchError
from dflbench.results import SuiteResult, environment
from dflbench.stats import summarize


class ProgressListener(Protocol):
    """Receives progress in units of trained models (fractions while a dataset trains)."""

    def start(self, n_datasets: int, models_per_dataset: int) -> None: ...
    def task_started(self, dataset: str) -> None: ...
    def advance(self, models: float) -> None: ...
    def task_done(self, dataset: str) -> None: ...


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
    from dflbench.preprocess import Preprocessor

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
        pre = Preprocessor().fit(X_fit)
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
        "n_samples": int(len(ds.y)), "n_features": int(data.X_train.shape[1]),
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


def prepare(suite: Suite) -> list[PreparedTask]:
    """Every dataset prepared and every loss checked: all input errors surface here."""
    tasks = [prepare_task(entry, suite) for entry in suite.datasets]
    for task in tasks:
        check_losses(suite, task)
    return tasks


def run_task(task: PreparedTask, suite: Suite, device: Any,
             listener: ProgressListener | None = None) -> list[dict[str, Any]]:
    """Train the dataset's grid; returns one run row per (treatment, seed)."""
    from dflbench.engine import Treatment, train_models
    from dflbench.metrics import compute_metrics

    treatments = [Treatment(lo.label, lo.name, dict(lo.params)) for lo in suite.losses]
    per_epoch = 1.0 / suite.train.epochs

    def on_epoch(n_models: int) -> None:
        if listener is not None:
            listener.advance(n_models * per_epoch)

    outcomes = train_models(task.data, treatments, suite.seeds, task.fit_counts, suite.model,
                            suite.train, device, on_epoch)
    params = {t.label: t for t in treatments}
    rows = []
    for out in outcomes:
        t = params[out.treatment]
        row = _run_row(task, t.label, t.loss, t.params, out.seed)
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
        rows.append(row)
    return rows


def _run_row(task: PreparedTask, label: str, loss: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "dataset": task.entry.name, "treatment": label, "loss": loss, "loss_params": params,
        "seed": seed, "status": "failed", "metrics": {}, "per_class": [],
        "class_counts": {"train": task.train_counts, "test": task.test_counts},
    }


def failed_rows(task: PreparedTask, suite: Suite, error: str) -> list[dict[str, Any]]:
    """Rows recording that a dataset's whole grid failed with ``error``."""
    rows = []
    for lo in suite.losses:
        for seed in suite.seeds:
            row = _run_row(task, lo.label, lo.name, dict(lo.params), seed)
            row["error"] = error
            rows.append(row)
    return rows


def run_suite(suite: Suite, device: str = "auto",
              listener: ProgressListener | None = None) -> SuiteResult:
    """Prepare, train and summarise a whole suite.

    A dataset whose training raises is recorded as failed (the others go on). On KeyboardInterrupt
    raises :class:`Interrupted` holding the finished datasets' result, marked incomplete.
    """
    import torch

    from dflbench.engine import resolve_device

    dev = resolve_device(device)
    # Small stacked models are overhead-bound: one thread per process measured 1.1x faster on an
    # idle 2-core machine and 17x faster beside another busy process (spinning OpenMP workers).
    torch.set_num_threads(1)
    tasks = prepare(suite)
    result = SuiteResult(
        suite={"name": suite.name, "sha256": suite.sha256(), "config": suite.to_dict()},
        environment=environment(str(dev)),
    )
    if listener is not None:
        listener.start(len(tasks), len(suite.losses) * len(suite.seeds))
    try:
        for task in tasks:
            if listener is not None:
                listener.task_started(task.entry.name)
            try:
                rows = run_task(task, suite, dev, listener)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one dataset's failure must not lose the others
                rows = failed_rows(task, suite, f"{type(exc).__name__}: {exc}")
            result.datasets.append(task.info)
            result.runs.extend(rows)
            if listener is not None:
                listener.task_done(task.entry.name)
    except KeyboardInterrupt:
        result.complete = False
        _summarize(result, suite)
        raise Interrupted(result) from None
    _summarize(result, suite)
    return result


def _summarize(result: SuiteResult, suite: Suite) -> None:
    result.summary = summarize(result.runs, [lo.label for lo in suite.losses],
                               [d["name"] for d in result.datasets])
