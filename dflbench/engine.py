"""The trainer: K models of one dataset trained at once, one optimizer step for all.

Models are stacked along a leading model dimension (see ``dflbench.models``); each keeps its own
seeded initialisation and its own minibatch order, and each is scored by its own loss (models are
grouped by treatment and every loss reduces over samples only, giving one loss per model). The
optimizers here act element-wise, so the stacked models stay independent: a model trained inside
the stack follows the same trajectory as the same model trained alone.

Early stopping and divergence are handled per model: a stopped or diverged model is frozen (its
parameters are put back after every optimizer step) while the others go on.

What makes it fast (measured on a 2-core machine; engine-notes.md and benchmarks/bench_engine.py):

- every trainable tensor of a stack (model and loss parameters) is a view into one flat buffer,
  and so is every gradient, so an optimizer step is one fused kernel over one vector
  (``torch.optim`` would also import ``torch._dynamo``: 1.7 s per process);
- a model may write out its own backward pass (``forward_backward``, as ``StackedMLP`` does):
  gradients land straight in the flat buffer. Models without it (the CNN) are trained through
  autograd, with the same results;
- losses give their gradient in closed form (``Loss.loss_and_grad``) from softmax terms computed
  once per step for the whole stack, so no autograd graph is built for them;
- the narrow output layer is computed class-major (``dflbench.models.StackedMLP``);
- glibc's malloc may be told to keep freed buffers, which removes the page faults of
  re-allocating the same activations every step: a process-wide setting, so the library never
  applies it; the CLI and the executors' worker processes do (:mod:`dflbench.settings`);
- each stack is split into :data:`STACK_PARTS` sub-stacks trained at once in threads.

Inputs may be tables (N, F) or images (N, C, H, W): each model's minibatch is gathered along the
first axis into (K, B, ...). What remains per step is the batched matmuls (over half of it) and
many small operations (the losses', the ReLUs', the optimizer's), each costing a few microseconds
whatever its size.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dflbench.augment import augment_batch
from dflbench.config import ModelConfig, TrainConfig
from dflbench.losses import LOSSES, Loss, get_loss
from dflbench.losses._base import Softmax
from dflbench.models import MODELS

#: Adam's constants (the ``torch.optim.Adam`` defaults) and SGD's momentum.
ADAM_BETAS, ADAM_EPS, SGD_MOMENTUM = (0.9, 0.999), 1e-8, 0.9


@dataclass(frozen=True)
class Treatment:
    """A loss with its parameters, under its report label."""

    label: str
    loss: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainData:
    """Preprocessed float32 arrays; validation arrays are empty when early stopping is off.

    ``X_*`` hold one row per sample: (N, F) for tables, (N, C, H, W) for images.
    """

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


#: Sub-stacks per stack. Fixed, not the number of free cores: a batched matmul or a vectorised
#: kernel may round differently for another stack size, so a split that followed the machine
#: would make results depend on it (and on --jobs). Measured on the 2-core machine
#: (bench_engine.py, 10 epochs): two sub-stacks in two threads 6.8 s, one stack on two OpenMP
#: threads 7.3 s, two sub-stacks one after the other 10.2 s; beside a busy process 8.1, 29.8 and
#: 10.4 s (OpenMP threads spin-wait for each other, Python threads do not).
STACK_PARTS = 2


def train_models(
    data: TrainData,
    treatments: Sequence[Treatment],
    seeds: Sequence[int],
    class_counts: Sequence[int],
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    on_epoch: Callable[[int], None] | None = None,
    workers: int = 1,
) -> list[ModelOutcome]:
    """Train every (treatment × seed) model; returns outcomes in treatment-major order.

    Losses that need another head (e.g. LDAM's cosine head) are trained in their own stack, and
    each head's stack is split into :data:`STACK_PARTS` sub-stacks (by treatment, or by seed for
    a single treatment). ``workers`` of them are trained at once, in threads: torch releases the
    GIL inside its kernels, so while one core runs a sub-stack's many small per-step operations
    (the losses, mostly) another trains the next one. ``on_epoch(n_models)`` is called
    (serialised) after each epoch of each sub-stack.
    """
    heads = {t.label: LOSSES.get(t.loss).head for t in treatments}
    parts: list[tuple[str, list[Treatment], list[int]]] = []
    for head in dict.fromkeys(heads.values()):
        group = [t for t in treatments if heads[t.label] == head]
        parts += [(head, sub_group, sub_seeds)
                  for sub_group, sub_seeds in _split(group, list(seeds), STACK_PARTS)]
    stacks = [
        _Stack(data, group, [_build_loss(t, class_counts, len(sub_seeds)) for t in group], sub_seeds,
               head, model_cfg, train_cfg, device)
        for head, group, sub_seeds in parts
    ]
    outcomes = {(o.treatment, o.seed): o for results in _run_stacks(stacks, on_epoch, workers)
                for o in results}
    return [outcomes[(t.label, s)] for t in treatments for s in seeds]


def _split(group: list[Treatment], seeds: list[int], parts: int
           ) -> list[tuple[list[Treatment], list[int]]]:
    """Up to ``parts`` parts of a stack: treatments dealt round-robin (so that neighbours in a
    suite, often alike in cost, go to different parts), or seeds when there is one treatment."""
    if len(group) > 1:
        n = min(parts, len(group))
        return [(group[i::n], seeds) for i in range(n)]
    n = min(parts, len(seeds))
    return [(group, seeds[i::n]) for i in range(n)]


class _Stopped(Exception):
    """A sub-stack gave up because another one failed or the run was interrupted."""


def _run_stacks(stacks: list[_Stack], on_epoch: Callable[[int], None] | None, workers: int
                ) -> list[list[ModelOutcome]]:
    """Run the stacks, ``workers`` at a time in threads; the first error (or KeyboardInterrupt)
    stops the others at their next step and is re-raised once they have."""
    if workers <= 1 or len(stacks) == 1:
        return [stack.run(on_epoch) for stack in stacks]
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    lock, stop = threading.Lock(), threading.Event()

    def report(n_models: int) -> None:
        if on_epoch is not None:
            with lock:
                on_epoch(n_models)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dflbench-stack") as pool:
        futures = [pool.submit(stack.run, report, stop) for stack in stacks]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # re-raises a failure before waiting on the others
            return [future.result() for future in futures]
        except BaseException:
            stop.set()  # the others stop at their next step; leaving the pool waits for them
            raise


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


class FlatParameters:
    """Trainable tensors of a stack as views into one flat buffer, their gradients into another.

    ``entries`` are (parameter, first member, weight decay?) where a parameter's leading
    dimension indexes stack members ``first, first + 1, ...``. Autograd accumulates into an
    existing ``.grad`` in place, so after ``zero_grad()`` and ``backward()`` the flat ``grad``
    holds every gradient. ``member`` maps each element to its stack member.
    """

    def __init__(self, entries: Sequence[tuple[torch.nn.Parameter, int, bool]], n_members: int,
                 device: torch.device) -> None:
        # Parameters with weight decay first, so decay applies to one prefix of the buffer.
        entries = sorted(entries, key=lambda e: not e[2])
        total = sum(p.numel() for p, _, _ in entries)
        dtype = entries[0][0].dtype if entries else torch.float32
        self.data = torch.zeros(total, dtype=dtype, device=device)
        self.grad = torch.zeros_like(self.data)
        member = torch.empty(total, dtype=torch.long)
        self.params: list[tuple[torch.nn.Parameter, Tensor]] = []
        self.n_decay = 0
        offset = 0
        for p, first, decay in entries:
            n = p.numel()
            rows = p.shape[0] if p.dim() else 1
            if p.dim() == 0 or first + rows > n_members:
                raise ValueError(
                    f"a trainable tensor of shape {tuple(p.shape)} has no leading model dimension "
                    f"(members {first}..{first + rows - 1} of {n_members}); stacked models must "
                    f"not share parameters")
            view = self.data[offset:offset + n].view_as(p)
            with torch.no_grad():
                view.copy_(p.detach())
            p.data = view
            grad = self.grad[offset:offset + n].view_as(p)
            p.grad = grad
            self.params.append((p, grad))
            member[offset:offset + n] = torch.arange(first, first + rows).repeat_interleave(n // rows)
            if decay:
                self.n_decay = offset + n
            offset += n
        self.member = member.to(device)

    def zero_grad(self) -> None:
        self.grad.zero_()

    def check_grads(self) -> None:
        """Re-attach any gradient autograd replaced instead of accumulating into (never expected,
        but silently training on stale gradients would be worse than a copy)."""
        for p, grad in self.params:
            if p.grad is not grad:
                if p.grad is not None:
                    grad.copy_(p.grad)
                p.grad = grad

    def element_mask(self, members: Tensor) -> Tensor:
        """A bool mask over the flat buffer, true on the elements of the given members (K,)."""
        return members.to(self.member.device)[self.member]


class FlatOptimizer:
    """Adam, AdamW or SGD with momentum on a :class:`FlatParameters`, with per-member freezing.

    Adam and AdamW run ``torch.optim``'s fused CPU/CUDA kernel (``torch._fused_adam_``: one pass
    over the buffer instead of seven; its update equals ``torch.optim.Adam(fused=True)`` bit for
    bit), falling back to the single-tensor formulas of ``torch.optim`` (equal to ``fused=False``
    bit for bit) where the kernel is missing. Weight decay applies to the model's parameters only.
    A frozen member's elements are put back after each step, so it never changes again.
    """

    def __init__(self, flat: FlatParameters, cfg: TrainConfig, *, fused: bool | None = None) -> None:
        if cfg.optimizer not in ("adam", "adamw", "sgd"):
            raise ValueError(f"unknown optimizer '{cfg.optimizer}'")
        self.flat = flat
        self.kind = cfg.optimizer
        self.lr = float(cfg.lr)
        self.wd = float(cfg.weight_decay)
        self.t = 0
        d = flat.n_decay
        # (param, grad, weight decay) segments: decay applies to the model's parameters only.
        self.segments = [(flat.data[:d], flat.grad[:d], self.wd), (flat.data[d:], flat.grad[d:], 0.0)]
        self.segments = [seg for seg in self.segments if seg[0].numel()]
        self.m = [torch.zeros_like(p) for p, _, _ in self.segments]
        self.v = [torch.zeros_like(p) for p, _, _ in self.segments]
        kernel = "_fused_adamw_" if self.kind == "adamw" else "_fused_adam_"
        self.fused = getattr(torch, kernel, None) if fused is not False else None
        if fused and self.fused is None:
            raise RuntimeError(f"torch.{kernel} is not available in this PyTorch")
        self.steps = [torch.zeros((), dtype=torch.float32, device=flat.data.device)
                      for _ in self.segments]
        self.frozen: Tensor | None = None  # element mask of frozen members
        self.frozen_values: Tensor | None = None

    def freeze(self, frozen: Tensor) -> None:
        """Members whose ``frozen`` (K,) entry is true keep their current parameters from now on."""
        if not bool(frozen.any()):
            self.frozen = self.frozen_values = None
            return
        self.frozen = self.flat.element_mask(frozen)
        self.frozen_values = self.flat.data.clone()

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        if self.kind == "sgd":
            self._sgd()
        elif self.fused is not None:
            beta1, beta2 = ADAM_BETAS
            for (p, g, wd), m, v, step in zip(self.segments, self.m, self.v, self.steps):
                step += 1
                self.fused([p], [g], [m], [v], [], [step], lr=self.lr, beta1=beta1, beta2=beta2,
                           weight_decay=wd, eps=ADAM_EPS, amsgrad=False, maximize=False)
        else:
            self._adam()
        if self.frozen is not None:
            assert self.frozen_values is not None
            data = self.flat.data
            torch.where(self.frozen, self.frozen_values, data, out=data)

    def _adam(self) -> None:
        beta1, beta2 = ADAM_BETAS
        for (p, g, wd), m, v in zip(self.segments, self.m, self.v):
            if wd and self.kind == "adamw":
                p.mul_(1 - self.lr * wd)
            elif wd:
                g = g.add(p, alpha=wd)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            step_size = self.lr / (1 - beta1**self.t)
            denom = (v.sqrt() / (1 - beta2**self.t) ** 0.5).add_(ADAM_EPS)
            p.addcdiv_(m, denom, value=-step_size)

    def _sgd(self) -> None:
        for (p, g, wd), buf in zip(self.segments, self.m):
            if wd:
                g = g.add(p, alpha=wd)
            if self.t == 1:
                buf.copy_(g)
            else:
                buf.mul_(SGD_MOMENTUM).add_(g)
            p.add_(buf, alpha=-self.lr)


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
            reserved={"n_models": self.k, "n_features": int(np.prod(data.X_train.shape[1:])),
                      "input_shape": tuple(data.X_train.shape[1:]),
                      "n_classes": data.n_classes, "head": head,
                      "seeds": self.seeds * len(treatments)},
        ).to(device)
        # Every trainable tensor has a leading model dimension; a loss's rows start at its slice.
        entries = [(p, 0, True) for p in self.model.parameters()]
        for loss, sl in zip(self.losses, self.slices):
            entries += [(p, sl.start, False) for p in loss.parameters()]
        self.flat = FlatParameters(entries, self.k, device)
        self.optimizer = FlatOptimizer(self.flat, train_cfg)
        # A model may write its own backward pass (StackedMLP does); otherwise autograd runs it.
        self.forward_backward = getattr(self.model, "forward_backward", None)

    def _losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Per-model losses (K,) for per-model targets (K, N), without gradients (validation)."""
        return torch.cat([loss(logits[sl], targets[sl]) for loss, sl in zip(self.losses, self.slices)])

    def _loss_grad(self, logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """Per-model losses (K,) and the gradient of their sum w.r.t. the (K, B, C) logits; the
        loss parameters' gradients are accumulated too. Each loss uses its closed form when it
        has one (a few fused operations instead of an autograd graph), else autograd."""
        softmax = Softmax.of(logits, targets)  # shared: computed once for the whole stack
        if len(self.losses) == 1:
            return self.losses[0].loss_and_grad(logits, targets, softmax)
        grad = torch.empty_like(logits)  # in the logits' layout (class-major for StackedMLP)
        values = [loss.loss_and_grad(logits[sl], targets[sl], softmax.rows(sl), out=grad[sl])[0]
                  for loss, sl in zip(self.losses, self.slices)]
        return torch.cat(values), grad

    def _step(self, xb: Tensor, targets: Tensor) -> Tensor:
        """One optimizer step on minibatch (K, B, ...) with targets (K, B); returns losses (K,)."""
        flat = self.flat
        flat.zero_grad()
        if self.forward_backward is not None:
            per_model = self.forward_backward(xb, lambda z: self._loss_grad(z, targets))
        else:
            logits = self.model(xb)
            per_model, grad = self._loss_grad(logits.detach(), targets)
            logits.backward(grad)
        flat.check_grads()
        self.optimizer.step()
        return per_model

    def _learned(self) -> list[dict[str, float]]:
        values: list[dict[str, float]] = [{} for _ in range(self.k)]
        for loss, sl in zip(self.losses, self.slices):
            for name, tensor in loss.learned().items():
                flat = tensor.detach().float().cpu().reshape(-1).expand(sl.stop - sl.start)
                for i, v in zip(range(sl.start, sl.stop), flat.tolist()):
                    values[i][name] = v
        return values

    def run(self, on_epoch: Callable[[int], None] | None,
            stop: threading.Event | None = None) -> list[ModelOutcome]:
        """Train the stack; ``stop``, once set, ends training at the next step (:class:`_Stopped`)."""
        started = time.perf_counter()
        dev, k, cfg = self.device, self.k, self.cfg
        X = torch.as_tensor(self.data.X_train, device=dev)
        y = torch.as_tensor(self.data.y_train, dtype=torch.long, device=dev)
        n, row = X.shape[0], X.shape[1:]
        es = cfg.early_stopping
        has_val = es is not None and self.data.X_val is not None and len(self.data.X_val) > 0
        if has_val:
            Xv = torch.as_tensor(self.data.X_val, device=dev)
            Xv = Xv.unsqueeze(0).expand(k, *Xv.shape)
            yv = torch.as_tensor(self.data.y_val, dtype=torch.long, device=dev)
        # Each model's own minibatch order, as a model trained alone would draw it.
        orders = [torch.Generator().manual_seed(int(s)) for s in self.seeds * len(self.treatments)]
        flat, optimizer = self.flat, self.optimizer
        best = flat.data.clone() if has_val else None
        best_score = torch.full((k,), -torch.inf, device=dev)
        best_epoch = torch.zeros(k, dtype=torch.long)
        frozen = torch.zeros(k, dtype=torch.bool)
        epochs_run = torch.zeros(k, dtype=torch.long)
        diverged_at = torch.zeros(k, dtype=torch.long)
        trajectory: list[list[dict[str, float]]] = [[] for _ in range(k)]
        starts = range(0, n, cfg.batch_size)
        for epoch in range(1, cfg.epochs + 1):
            for loss in self.losses:
                loss.start_epoch(epoch - 1, cfg.epochs)
            self.model.train()
            perms = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(dev)
            targets = y[perms]  # (K, n): every model's targets in its own order
            epoch_loss = torch.zeros(k, device=dev)
            for start in starts:
                if stop is not None and stop.is_set():
                    raise _Stopped
                idx = perms[:, start:start + cfg.batch_size]
                xb = X.index_select(0, idx.reshape(-1)).view(k, idx.shape[1], *row)
                if cfg.augment.active:
                    xb = augment_batch(xb, orders, cfg.augment)
                epoch_loss += self._step(xb, targets[:, start:start + cfg.batch_size].contiguous())
            active = ~frozen
            epochs_run[active] += 1
            bad = (~torch.isfinite(epoch_loss)).cpu() & active
            for i, values in enumerate(self._learned()):
                if active[i] and values:
                    trajectory[i].append(values)
            newly_frozen = bad
            if bad.any():
                diverged_at[bad] = epoch
                frozen |= bad
            if has_val:
                assert best is not None
                score = self._validate(Xv, yv, es.monitor)
                improved = (score > best_score) & ~frozen.to(dev)
                if improved.any():
                    torch.where(flat.element_mask(improved), flat.data, best, out=best)
                    best_score = torch.where(improved, score, best_score)
                    best_epoch[improved.cpu()] = epoch
                stale = (epoch - best_epoch >= es.patience) & ~frozen
                if stale.any():
                    frozen |= stale
                    newly_frozen = newly_frozen | stale
                    flat.data.copy_(torch.where(flat.element_mask(stale), best, flat.data))
            if newly_frozen.any():
                optimizer.freeze(frozen)
            if on_epoch is not None:
                on_epoch(k)
            if frozen.all():
                break
        if has_val:
            # Every model ends at its best validation epoch.
            assert best is not None
            flat.data.copy_(torch.where(flat.element_mask(~frozen), best, flat.data))
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
        Xt = torch.as_tensor(self.data.X_test, device=self.device)
        logits = self.model(Xt.unsqueeze(0).expand(self.k, *Xt.shape))
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
