"""Per-model stopping in a stack: divergence, early stopping and restore-best.

A model stops when its epoch's training loss is non-finite (it diverged), or, with early stopping,
when its validation score has not improved for ``patience`` epochs. A stopped model is frozen (the
optimizer puts its parameters back after every step, :meth:`FlatOptimizer.freeze`; a zero gradient
would not freeze it under Adam) while the others go on. With early stopping every model ends at
the parameters of its best validation epoch: one stopped early at once, the others when training
ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from dflbench.config import MONITORS, EarlyStopping
from dflbench.engine.optim import FlatParameters


@dataclass(frozen=True)
class StopRecord:
    """How one model's training ended."""

    epochs_run: int
    best_epoch: int | None  # without early stopping, or when diverged: None
    diverged_at: int | None  # the epoch whose training loss was non-finite


class Stopping:
    """Which models of a stack still train, and each one's best parameters so far.

    Call :meth:`after_epoch` after every epoch and freeze what it returns in the optimizer; train
    while not ``frozen.all()``; then :meth:`finish`. ``early_stopping`` is None when there is no
    validation set (divergence is still handled).
    """

    def __init__(self, flat: FlatParameters, n_models: int, early_stopping: EarlyStopping | None) -> None:
        self.flat = flat
        self.early_stopping = early_stopping
        #: (K,) bool, on the CPU: models that train no more.
        self.frozen = torch.zeros(n_models, dtype=torch.bool)
        self.epochs_run = torch.zeros(n_models, dtype=torch.long)
        self.diverged_at = torch.zeros(n_models, dtype=torch.long)
        self.best_epoch = torch.zeros(n_models, dtype=torch.long)
        self.best_score = torch.full((n_models,), -torch.inf, device=flat.data.device)
        self.best = flat.data.clone() if early_stopping is not None else None

    def after_epoch(self, epoch: int, epoch_loss: Tensor, score: Tensor | None = None) -> Tensor:
        """Take epoch ``epoch``'s (from 1) summed training losses (K,) and, with early stopping,
        validation scores (K,), higher is better; returns the models it froze, (K,) bool. A model
        stopped early has its best parameters back already."""
        trained = ~self.frozen
        self.epochs_run[trained] += 1
        diverged = (~torch.isfinite(epoch_loss)).cpu() & trained
        self.diverged_at[diverged] = epoch
        self.frozen |= diverged
        if self.early_stopping is None:
            return diverged
        if score is None:
            raise ValueError("early stopping needs each epoch's validation scores")
        return diverged | self._early_stop(epoch, score, self.early_stopping.patience)

    def _early_stop(self, epoch: int, score: Tensor, patience: int) -> Tensor:
        assert self.best is not None
        flat = self.flat
        improved = (score > self.best_score) & ~self.frozen.to(score.device)
        if improved.any():
            torch.where(flat.element_mask(improved), flat.data, self.best, out=self.best)
            self.best_score = torch.where(improved, score, self.best_score)
            self.best_epoch[improved.cpu()] = epoch
        stale = (epoch - self.best_epoch >= patience) & ~self.frozen
        if stale.any():
            self.frozen |= stale
            self._restore_best(stale)
        return stale

    def _restore_best(self, models: Tensor) -> None:
        assert self.best is not None
        flat = self.flat
        flat.data.copy_(torch.where(flat.element_mask(models), self.best, flat.data))

    def finish(self) -> list[StopRecord]:
        """Put the models still training back at their best epoch (with early stopping); how each
        model's training ended."""
        if self.best is not None:
            self._restore_best(~self.frozen)
        records = []
        for epochs, best, div in zip(self.epochs_run.tolist(), self.best_epoch.tolist(),
                                     self.diverged_at.tolist()):
            records.append(StopRecord(epochs_run=epochs, diverged_at=div or None,
                                      best_epoch=None if self.best is None or div else best))
        return records


def validation_score(monitor: str, logits: Tensor, targets: Tensor, n_classes: int,
                     losses: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """Each model's score (K,) on the validation rows, higher is better: ``monitor`` is one of
    config's ``MONITORS``. ``logits`` are (K, N, C), ``targets`` (N,); ``losses(logits, targets)``
    gives the per-model losses for per-model targets (K, N)."""
    if monitor == "loss":
        return -losses(logits, targets.expand(logits.shape[0], -1))
    if monitor == "macro_f1":
        return batched_macro_f1(logits.argmax(dim=-1), targets, n_classes)
    raise ValueError(f"unknown monitor '{monitor}' (valid: {', '.join(MONITORS)})")


def batched_macro_f1(pred: Tensor, target: Tensor, n_classes: int) -> Tensor:
    """Macro F1 of each row of ``pred`` (K, N) against ``target`` (N,); zero_division = 0."""
    k = pred.shape[0]
    cells = (target.unsqueeze(0) * n_classes + pred).long()
    # float32 counts exactly up to 2^24 rows; validation pixels of segmentation can exceed it.
    dtype = torch.float32 if target.numel() < 2 ** 24 else torch.float64
    confusion = torch.zeros(k, n_classes * n_classes, device=pred.device, dtype=dtype)
    confusion.scatter_add_(1, cells, torch.ones_like(cells, dtype=confusion.dtype))
    confusion = confusion.view(k, n_classes, n_classes)
    tp = confusion.diagonal(dim1=1, dim2=2)
    denominator = confusion.sum(dim=1) + confusion.sum(dim=2)  # (tp + fp) + (tp + fn)
    f1 = torch.where(denominator > 0, 2 * tp / denominator.clamp(min=1), torch.zeros_like(tp))
    return f1.mean(dim=1)
