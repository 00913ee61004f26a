"""The trainer: K models of one dataset trained at once, one optimizer step for all.

Models are stacked along a leading model dimension (see ``dflbench.models``); each keeps its own
seeded initialisation and its own minibatch order, and each is scored by its own loss (models are
grouped by treatment and every loss reduces over samples only, giving one loss per model). Adam and
the other optimizers here act element-wise, so the stacked models stay independent: a model trained
inside the stack follows the same trajectory as the same model trained alone.

Early stopping and divergence are handled per model: a stopped or diverged model is frozen (its
rows are restored after every step) while the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dflbench.config import ModelConfig, TrainConfig
from dflbench.losses import Loss, get_loss
from dflbench.models import MODELS


@dataclass(frozen=True)
class Treatment:
    """A loss with its parameters, under its report label."""

    label: str
    loss: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainData:
    """Preprocessed float32 arrays; validation arrays are empty when early stopping is off."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    n_classes: int


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
    proba: np.ndarray | None  # test-set class probabilities (N_test, C); None if diverged
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without CUDA is a ConfigError."""
    from dflbench.errors import ConfigError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available here (valid: auto, cpu)")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"invalid device '{device}' (valid: auto, cpu, cuda)")
    return torch.device(device)


def train_models(
    data: TrainData,
    treatments: Sequence[Treatment],
    seeds: Sequence[int],
    class_counts: Sequence[int],
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    on_epoch: Callable[[int], None] | None = None,
) -> list[ModelOutcome]:
    """Train every (treatment × seed) model; returns outcomes in treatment-major order.

    Losses that need another head (e.g. LDAM's cosine head) are trained in their own stack.
    ``on_epoch(n_models)`` is called after each epoch of each stack with the stack's size.
    """
    losses = {t.label: _build_loss(t, class_counts, len(seeds)) for t in treatments}
    by_head: dict[str, list[Treatment]] = {}
    for t in treatments:
        by_head.setdefault(losses[t.label].head, []).append(t)
    outcomes: dict[tuple[str, int], ModelOutcome] = {}
    for head, group in by_head.items():
        stack = _Stack(data, group, [losses[t.label] for t in group], seeds, head,
                       model_cfg, train_cfg, device)
        for outcome in stack.run(on_epoch):
            outcomes[(outcome.treatment, outcome.seed)] = outcome
    return [outcomes[(t.label, s)] for t in treatments for s in seeds]


def _build_loss(t: Treatment, class_counts: Sequence[int], n_models: int) -> Loss:
    return get_loss(t.loss, class_counts=list(class_counts), n_models=n_models, **t.params)


def batched_macro_f1(pred: Tensor, target: Tensor, n_classes: int) -> Tensor:
    """Macro F1 of each row of ``pred`` (K, N) against ``target`` (N,); zero_division = 0."""
    k = pred.shape[0]
    cells = (target.unsqueeze(0) * n_classes + pred).long()
    confusion = torch.zeros(k, n_classes * n_classes, device=pred.device)
    confusion.scatter_add_(1, cells, torch.ones_like(cells, dtype=confusion.dtype))
    confusion = confusion.view(k, n_classes, n_classes)
    tp = confusion.diagonal(dim1=1, dim2=2)
    denominator = confusion.sum(dim=1) + confusion.sum(dim=2)  # (tp + fp) + (tp + fn)
    f1 = torch.where(denominator > 0, 2 * tp / denominator.clamp(min=1), torch.zeros_like(tp))
    return f1.mean(dim=1)


class _Stack:
    """One stack of models sharing a head; members are (treatment, seed) in treatment-major order."""

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
        self.model = MODELS.build(
            model_cfg.name, dict(model_cfg.params),
            reserved={"n_models": self.k, "n_features": data.X_train.shape[1],
                      "n_classes": data.n_classes, "head": head,
                      "seeds": self.seeds * len(treatments)},
        ).to(device)
        # Every trainable tensor has a leading model dimension; a loss's rows start at its slice.
        self.rows: list[tuple[torch.nn.Parameter, int]] = [(p, 0) for p in self.model.parameters()]
        for loss, sl in zip(self.losses, self.slices):
            self.rows += [(p, sl.start) for p in loss.parameters()]
        self.optimizer = self._optimizer()

    def _optimizer(self) -> torch.optim.Optimizer:
        groups = [{"params": list(self.model.parameters()), "weight_decay": self.cfg.weight_decay}]
        loss_params = [p for loss in self.losses for p in loss.parameters()]
        if loss_params:
            groups.append({"params": loss_params, "weight_decay": 0.0})
        if self.cfg.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=self.cfg.lr, momentum=0.9)
        cls = torch.optim.AdamW if self.cfg.optimizer == "adamw" else torch.optim.Adam
        return cls(groups, lr=self.cfg.lr)

    def _member_rows(self, p: torch.nn.Parameter, offset: int, members: Tensor) -> tuple[Tensor, Tensor]:
        """(rows of ``p``, matching member indices) for the given global member indices."""
        local = members - offset
        keep = (local >= 0) & (local < p.shape[0])
        return local[keep], members[keep]

    def _snapshot(self, members: Tensor, into: list[Tensor]) -> None:
        with torch.no_grad():
            for (p, offset), saved in zip(self.rows, into):
                rows, _ = self._member_rows(p, offset, members)
                saved[rows] = p[rows]

    def _restore(self, members: Tensor, source: list[Tensor]) -> None:
        with torch.no_grad():
            for (p, offset), saved in zip(self.rows, source):
                rows, _ = self._member_rows(p, offset, members)
                p[rows] = saved[rows]

    def _losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Per-model losses (K,) for per-model targets (K, N)."""
        return torch.cat([loss(logits[sl], targets[sl]) for loss, sl in zip(self.losses, self.slices)])

    def _learned(self) -> list[dict[str, float]]:
        values: list[dict[str, float]] = [{} for _ in range(self.k)]
        for loss, sl in zip(self.losses, self.slices):
            for name, tensor in loss.learned().items():
                flat = tensor.detach().float().cpu().reshape(-1).expand(sl.stop - sl.start)
                for i, v in zip(range(sl.start, sl.stop), flat.tolist()):
                    values[i][name] = v
        return values

    def run(self, on_epoch: Callable[[int], None] | None) -> list[ModelOutcome]:
        started = time.perf_counter()
        dev, k, cfg = self.device, self.k, self.cfg
        X = torch.as_tensor(self.data.X_train, device=dev)
        y = torch.as_tensor(self.data.y_train, dtype=torch.long, device=dev)
        n = X.shape[0]
        es = cfg.early_stopping
        has_val = es is not None and self.data.X_val is not None and len(self.data.X_val) > 0
        if has_val:
            Xv = torch.as_tensor(self.data.X_val, device=dev).expand(k, -1, -1)
            yv = torch.as_tensor(self.data.y_val, dtype=torch.long, device=dev)
        orders = [torch.Generator().manual_seed(int(s)) for s in self.seeds * len(self.treatments)]
        best = [p.detach().clone() for p, _ in self.rows]
        best_score = torch.full((k,), -torch.inf, device=dev)
        best_epoch = torch.zeros(k, dtype=torch.long)
        frozen = torch.zeros(k, dtype=torch.bool)
        epochs_run = torch.zeros(k, dtype=torch.long)
        diverged_at = torch.zeros(k, dtype=torch.long)
        trajectory: list[list[dict[str, float]]] = [[] for _ in range(k)]
        for epoch in range(1, cfg.epochs + 1):
            for loss in self.losses:
                loss.start_epoch(epoch - 1, cfg.epochs)
            self.model.train()
            perms = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(dev)
            epoch_loss = torch.zeros(k, device=dev)
            frozen_idx = frozen.nonzero().squeeze(1).to(dev)
            for start in range(0, n, cfg.batch_size):
                idx = perms[:, start:start + cfg.batch_size]
                per_model = self._losses(self.model(X[idx]), y[idx])
                self.optimizer.zero_grad(set_to_none=True)
                per_model.sum().backward()
                self.optimizer.step()
                if frozen_idx.numel():
                    self._restore(frozen_idx, best)
                epoch_loss += per_model.detach()
            active = ~frozen
            epochs_run[active] += 1
            bad = (~torch.isfinite(epoch_loss)).cpu() & active
            for i, values in enumerate(self._learned()):
                if active[i] and values:
                    trajectory[i].append(values)
            if bad.any():
                diverged_at[bad] = epoch
                frozen |= bad
            if has_val:
                score = self._validate(Xv, yv, es.monitor)
                improved = (score > best_score) & ~frozen.to(dev)
                if improved.any():
                    members = improved.nonzero().squeeze(1)
                    self._snapshot(members, best)
                    best_score = torch.where(improved, score, best_score)
                    best_epoch[improved.cpu()] = epoch
                stale = (epoch - best_epoch >= es.patience) & ~frozen
                if stale.any():
                    frozen |= stale
                    self._restore(stale.nonzero().squeeze(1).to(dev), best)
            if on_epoch is not None:
                on_epoch(k)
            if frozen.all():
                break
        if has_val:
            # Every model ends at its best validation epoch.
            self._restore(torch.arange(k, device=dev)[(~frozen).to(dev)], best)
        return self._outcomes(time.perf_counter() - started, epochs_run, best_epoch if has_val else None,
                              diverged_at, trajectory)

    @torch.no_grad()
    def _validate(self, Xv: Tensor, yv: Tensor, monitor: str) -> Tensor:
        """Per-model validation score, higher is better."""
        self.model.eval()
        logits = self.model(Xv)
        if monitor == "loss":
            return -self._losses(logits, yv.expand(self.k, -1))
        return batched_macro_f1(logits.argmax(dim=-1), yv, self.data.n_classes)

    @torch.no_grad()
    def _outcomes(self, seconds: float, epochs_run: Tensor, best_epoch: Tensor | None,
                  diverged_at: Tensor, trajectory: list[list[dict[str, float]]]) -> list[ModelOutcome]:
        self.model.eval()
        Xt = torch.as_tensor(self.data.X_test, device=self.device).expand(self.k, -1, -1)
        logits = self.model(Xt)
        proba = torch.cat([loss.probabilities(logits[sl]) for loss, sl in zip(self.losses, self.slices)])
        proba_np = proba.double().cpu().numpy()
        final = self._learned()
        outcomes = []
        for i in range(self.k):
            t = self.treatments[i // len(self.seeds)]
            seed = self.seeds[i % len(self.seeds)]
            learned = {
                name: {"value": value, "trajectory": [step[name] for step in trajectory[i]]}
                for name, value in final[i].items()
            }
            div = int(diverged_at[i])
            outcomes.append(ModelOutcome(
                treatment=t.label, seed=seed,
                status="diverged" if div else "ok",
                epochs_run=int(epochs_run[i]),
                best_epoch=None if best_epoch is None or div else int(best_epoch[i]),
                seconds=seconds / self.k, stack_size=self.k,
                proba=None if div else proba_np[i],
                learned=learned,
                error=f"training loss became non-finite in epoch {div}" if div else None,
            ))
        return outcomes
