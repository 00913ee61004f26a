"""One stack: K models of one head trained at once, one optimizer step for all, epoch by epoch.

Members are (treatment, seed) in treatment-major order. Each keeps its own seeded initialisation
and its own minibatch order, and each is scored by its own loss (every loss reduces over samples
only, giving one loss per model), so a model trained inside the stack follows the same trajectory
as the same model trained alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from dflbench.augment import augment_batch
from dflbench.config import ModelConfig, TrainConfig
from dflbench.engine.inputs import TrainData, Treatment
from dflbench.engine.optim import FlatOptimizer, FlatParameters
from dflbench.engine.outcome import EpochHistory, LearnedParameters, ModelOutcome, build_outcomes, predict_proba
from dflbench.engine.parallel import Stopped
from dflbench.engine.pixels import as_rows, scored_pixels
from dflbench.engine.stopping import Stopping, validation_score
from dflbench.losses import Loss
from dflbench.losses._base import Softmax
from dflbench.models import build_model
from dflbench.models._common import generators


class Stack:
    """One stack of models sharing a head, with its flat parameters and optimizer."""

    def __init__(self, data: TrainData, treatments: list[Treatment], losses: list[Loss],
                 seeds: Sequence[int], head: str, model_cfg: ModelConfig, train_cfg: TrainConfig,
                 device: torch.device) -> None:
        self.data = data
        self.treatments = treatments
        self.seeds = list(seeds)
        self.cfg = train_cfg
        self.device = device
        per = len(self.seeds)
        self.k = len(treatments) * per
        self.slices = [slice(i * per, (i + 1) * per) for i in range(len(treatments))]
        self.losses = [loss.to(device) for loss in losses]
        self.model = build_model(
            model_cfg.name, model_cfg.params, n_models=self.k, input_shape=data.X_train.shape[1:],
            n_classes=data.n_classes, seeds=self.seeds * len(treatments), head=head).to(device)
        # Every trainable tensor has a leading model dimension; a loss's rows start at its slice.
        entries = [(p, 0, True) for p in self.model.parameters()]
        for loss, sl in zip(self.losses, self.slices):
            entries += [(p, sl.start, False) for p in loss.parameters()]
        self.flat = FlatParameters(entries, self.k, device)
        self.optimizer = FlatOptimizer(self.flat, train_cfg)
        # A model may write its own backward pass (StackedMLP does); otherwise autograd runs it.
        self.forward_backward = getattr(self.model, "forward_backward", None)

    def run(self, on_epoch: Callable[[int], None] | None,
            stop: threading.Event | None = None) -> list[ModelOutcome]:
        """Train the stack; ``stop``, once set, ends training at the next step (:class:`Stopped`)."""
        started = time.perf_counter()
        validation = self._validation_rows()
        stopping = Stopping(self.flat, self.k, self.cfg.early_stopping if validation else None)
        learned = LearnedParameters(self.losses, self.slices)
        history = EpochHistory(self.k, self.cfg.early_stopping.monitor if validation else None)
        n_batches = -(-len(self.data.X_train) // self.cfg.batch_size)
        X = torch.as_tensor(self.data.X_train, device=self.device)
        y = torch.as_tensor(self.data.y_train, dtype=torch.long, device=self.device)
        # Each model's own minibatch order, as a model trained alone would draw it.
        member_seeds = self.seeds * len(self.treatments)
        orders = generators(member_seeds)
        rows = None if self.data.rows is None else torch.stack(
            [torch.as_tensor(self.data.rows[s], dtype=torch.long) for s in member_seeds]).to(self.device)
        for epoch in range(1, self.cfg.epochs + 1):
            epoch_loss = self._epoch(epoch, X, y, orders, stop, rows)
            learned.record(~stopping.frozen)
            score = self._validate(*validation) if validation else None
            history.record(~stopping.frozen, epoch_loss, n_batches, score)
            if stopping.after_epoch(epoch, epoch_loss, score).any():
                self.optimizer.freeze(stopping.frozen)
            if on_epoch is not None:
                on_epoch(self.k)
            if stopping.frozen.all():
                break
        stops = stopping.finish()
        seconds = time.perf_counter() - started
        proba = predict_proba(self.model, self.losses, self.slices, self.data.X_test, self.device)
        return build_outcomes(self.treatments, self.seeds, proba, stops, learned.outcomes(), seconds,
                              history.outcomes())

    def _epoch(self, epoch: int, X: Tensor, y: Tensor, orders: list[torch.Generator],
               stop: threading.Event | None, rows: Tensor | None = None) -> Tensor:
        """One epoch over the training rows ``X`` (N, ...) and their labels ``y`` (N,) or masks
        (N, H, W) — or, with ``rows`` (K, n), over each model's own n rows of them —, each model
        in its own order; returns each model's summed minibatch losses (K,)."""
        cfg, k = self.cfg, self.k
        for loss in self.losses:
            loss.start_epoch(epoch - 1, cfg.epochs)
        self.model.train()
        n, row = (X.shape[0] if rows is None else rows.shape[1]), X.shape[1:]
        perms = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(self.device)
        if rows is not None:
            perms = rows.gather(1, perms)  # a model's i-th row is X[rows[i]], as if alone
        epoch_loss = torch.zeros(k, device=self.device)
        for start in range(0, n, cfg.batch_size):
            if stop is not None and stop.is_set():
                raise Stopped
            idx = perms[:, start:start + cfg.batch_size]
            picked, b = idx.reshape(-1), idx.shape[1]
            xb = X.index_select(0, picked).view(k, b, *row)
            if cfg.augment.active:
                xb = augment_batch(xb, orders, cfg.augment)
            # Each model's labels (K, B), or masks (K, B, H, W), for its own rows.
            epoch_loss += self._step(xb, y.index_select(0, picked).view(k, b, *y.shape[1:]))
        return epoch_loss

    def _step(self, xb: Tensor, targets: Tensor) -> Tensor:
        """One optimizer step on minibatch (K, B, ...) with targets (K, B), or masks (K, B, H, W)
        for segmentation; returns losses (K,)."""
        flat = self.flat
        flat.zero_grad()
        if self.forward_backward is not None:
            per_model = self.forward_backward(xb, lambda z: self._loss_grad(z, targets))
        else:
            logits = self.model(xb)
            # A segmentation model's pixels are the losses' rows: (K, B·H·W, C), a view.
            rows, row_targets, mask = as_rows(logits.detach(), targets)
            per_model, grad = self._loss_grad(rows, row_targets, mask)
            logits.backward(grad.view_as(logits))
        flat.check_grads()
        self.optimizer.step()
        return per_model

    def _loss_grad(self, logits: Tensor, targets: Tensor,
                   mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Per-model losses (K,) and the gradient of their sum w.r.t. the (K, B, C) logits; the
        loss parameters' gradients are accumulated too. Each loss uses its closed form when it
        has one (a few fused operations instead of an autograd graph), else autograd. ``mask``
        (K, B), when given, drops the rows it marks False (ignored pixels)."""
        # Shared: computed once for the whole stack, when a closed form reads it.
        softmax = (Softmax.of(logits, targets) if any(loss.has_closed_form for loss in self.losses)
                   else None)
        if len(self.losses) == 1:
            return self.losses[0].loss_and_grad(logits, targets, softmax, mask=mask)
        grad = torch.empty_like(logits)  # in the logits' layout (class-major for StackedMLP)
        values = [loss.loss_and_grad(logits[sl], targets[sl],
                                     None if softmax is None else softmax.rows(sl), out=grad[sl],
                                     mask=None if mask is None else mask[sl])[0]
                  for loss, sl in zip(self.losses, self.slices)]
        return torch.cat(values), grad

    def _validation_rows(self) -> tuple[Tensor, Tensor] | None:
        """The validation rows, repeated for every model (K, N, ...), and their targets (N,), or
        masks (N, H, W); None without early stopping or without rows to validate on."""
        X_val, y_val = self.data.X_val, self.data.y_val
        if self.cfg.early_stopping is None or X_val is None or len(X_val) == 0:
            return None
        Xv = torch.as_tensor(X_val, device=self.device)
        return (Xv.unsqueeze(0).expand(self.k, *Xv.shape),
                torch.as_tensor(y_val, dtype=torch.long, device=self.device))

    @torch.no_grad()
    def _validate(self, Xv: Tensor, yv: Tensor) -> Tensor:
        """Per-model validation score, higher is better."""
        assert self.cfg.early_stopping is not None
        self.model.eval()
        logits, targets = scored_pixels(self.model(Xv), yv)  # rows, or counted pixels
        return validation_score(self.cfg.early_stopping.monitor, logits, targets,
                                self.data.n_classes, self._losses)

    def _losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Per-model losses (K,) for per-model targets (K, N), without gradients (validation)."""
        return torch.cat([loss(logits[sl], targets[sl]) for loss, sl in zip(self.losses, self.slices)])
