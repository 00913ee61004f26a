"""One flat buffer for every trainable tensor of a stack, and the optimizers that step it.

Every trainable tensor of a stack (model and loss parameters) is a view into one flat buffer, and
so is every gradient, so an optimizer step is one fused kernel over one vector (``torch.optim``
would also import ``torch._dynamo``: 1.7 s per process; docs/engine.md). The optimizers act
element-wise, so the stacked models stay independent.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dflbench.config import OPTIMIZERS, TrainConfig

#: Adam's constants (the ``torch.optim.Adam`` defaults) and SGD's momentum.
ADAM_BETAS, ADAM_EPS, SGD_MOMENTUM = (0.9, 0.999), 1e-8, 0.9


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
        if cfg.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{cfg.optimizer}' (valid: {', '.join(OPTIMIZERS)})")
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
