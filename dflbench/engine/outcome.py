"""What training produced, per model: test-set probabilities, how training ended, learned
loss parameters with their trajectory (e.g. γ of the learnable Dual Focal Loss, epoch by epoch),
and each epoch's training loss (and validation score, with early stopping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dflbench.engine.inputs import Treatment
from dflbench.engine.stopping import StopRecord
from dflbench.losses import Loss


@dataclass
class ModelOutcome:
    """What training one model produced."""

    treatment: str
    seed: int
    status: str  # "ok" | "diverged"
    epochs_run: int
    best_epoch: int | None
    seconds: float
    stack_size: int
    #: Test-set class probabilities (N_test, C), per pixel (N_test, H, W, C) for segmentation;
    #: None if diverged.
    proba: np.ndarray | None
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    #: Per epoch trained: ``loss`` (mean minibatch training loss) and, with early stopping,
    #: ``validation`` (the monitored value) and ``monitor``.
    history: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def predict_proba(model: torch.nn.Module, losses: Sequence[Loss], slices: Sequence[slice],
                  X_test: np.ndarray, device: torch.device) -> np.ndarray:
    """Every stacked model's class probabilities on the test rows, (K, N_test, C) float64 (per
    pixel, (K, N_test, H, W, C), for a segmentation model); each loss turns its models' logits
    into probabilities its own way (e.g. LDAM's scaled softmax)."""
    model.eval()
    Xt = torch.as_tensor(X_test, device=device)
    logits = model(Xt.unsqueeze(0).expand(slices[-1].stop, *Xt.shape))
    proba = torch.cat([loss.probabilities(logits[sl]) for loss, sl in zip(losses, slices)])
    return proba.double().cpu().numpy()


class LearnedParameters:
    """The learned parameters of each stacked model's loss, recorded after every epoch it trains."""

    def __init__(self, losses: Sequence[Loss], slices: Sequence[slice]) -> None:
        self.losses, self.slices = losses, slices
        self.trajectory: list[list[dict[str, float]]] = [[] for _ in range(slices[-1].stop)]

    def current(self) -> list[dict[str, float]]:
        """Each model's learned values now (an empty dict for a loss without any)."""
        values: list[dict[str, float]] = [{} for _ in self.trajectory]
        for loss, sl in zip(self.losses, self.slices):
            for name, tensor in loss.learned().items():
                flat = tensor.detach().float().cpu().reshape(-1).expand(sl.stop - sl.start)
                for i, v in zip(range(sl.start, sl.stop), flat.tolist()):
                    values[i][name] = v
        return values

    def record(self, trained: Tensor) -> None:
        """Append the current values of the models that trained this epoch (``trained``, (K,))."""
        for i, values in enumerate(self.current()):
            if trained[i] and values:
                self.trajectory[i].append(values)

    def outcomes(self) -> list[dict[str, dict[str, Any]]]:
        """Each model's ``{name: {"value": final value, "trajectory": [per epoch]}}``."""
        return [{name: {"value": value, "trajectory": [step[name] for step in steps]}
                 for name, value in final.items()}
                for final, steps in zip(self.current(), self.trajectory)]


class EpochHistory:
    """Each stacked model's training loss per epoch it trains (the mean of its minibatch losses)
    and, with early stopping, its validation value in the monitor's own units (a validation loss
    is recorded as a loss, not as the negated score early stopping maximises). Read after each
    epoch; training never depends on it."""

    def __init__(self, n_models: int, monitor: str | None) -> None:
        self.monitor = monitor
        self.loss: list[list[float]] = [[] for _ in range(n_models)]
        self.validation: list[list[float]] = [[] for _ in range(n_models)]

    def record(self, trained: Tensor, epoch_loss: Tensor, n_batches: int, score: Tensor | None) -> None:
        """Append this epoch's values of the models that trained it (``trained``, (K,) bool)."""
        losses = _shortest(epoch_loss.detach() / n_batches)
        values = None
        if score is not None:
            values = _shortest(-score if self.monitor == "loss" else score)
        for i in torch.nonzero(trained).flatten().tolist():
            self.loss[i].append(losses[i])
            if values is not None:
                self.validation[i].append(values[i])

    def outcomes(self) -> list[dict[str, Any]]:
        if self.monitor is None:
            return [{"loss": loss} for loss in self.loss]
        return [{"loss": loss, "validation": val, "monitor": self.monitor}
                for loss, val in zip(self.loss, self.validation)]


def _shortest(values: Tensor) -> list[float]:
    """float32 values as the floats of their shortest decimal form, which gives each float32 back
    exactly: a result file holds 0.47208938, not the 17 digits of its float64 widening."""
    return [float(str(v)) for v in values.detach().float().cpu().numpy()]


def build_outcomes(treatments: Sequence[Treatment], seeds: Sequence[int], proba: np.ndarray,
                   stops: Sequence[StopRecord], learned: Sequence[dict[str, dict[str, Any]]],
                   seconds: float, history: Sequence[dict[str, Any]]) -> list[ModelOutcome]:
    """One outcome per stacked model, in the stack's (treatment, seed) order; ``seconds`` is the
    stack's training time, shared equally."""
    k = len(stops)
    outcomes = []
    for i, stop in enumerate(stops):
        div = stop.diverged_at
        outcomes.append(ModelOutcome(
            treatment=treatments[i // len(seeds)].label, seed=seeds[i % len(seeds)],
            status="diverged" if div else "ok",
            epochs_run=stop.epochs_run,
            best_epoch=stop.best_epoch,
            seconds=seconds / k, stack_size=k,
            proba=None if div else proba[i],
            learned=learned[i],
            history=history[i],
            error=f"training loss became non-finite in epoch {div}" if div else None,
        ))
    return outcomes
