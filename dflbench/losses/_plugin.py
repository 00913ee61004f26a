"""A loss from outside dflbench, trained by the batched engine.

The contract (README, "Bring your own loss"): a ``torch.nn.Module`` whose ``forward(logits (N, C),
targets (N,))`` returns the per-sample losses, shape (N,). Its constructor takes the suite's
parameters, plus ``class_counts`` when it accepts that argument. :func:`plugin_loss` wraps such a
class as a :class:`~dflbench.losses._base.Loss`: one copy of the module per stacked model, their
parameters stacked with a leading model dimension (``torch.func.stack_module_state``), so a
trainable parameter (a learnable γ, say) is trained per model and recorded like
``dual_focal_learnable``'s. The stack is evaluated with ``vmap`` over ``functional_call`` where the
module allows it, one model at a time otherwise; gradients come from autograd (a closed form
stays optional: subclass :class:`Loss` and write ``per_sample_grad``, see docs/losses.md).
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from dflbench.errors import ConfigError
from dflbench.losses._base import Loss
from dflbench.plugins import raised


def register(spec: str, base: Path | None = None) -> str:
    """Register the plugin loss ``spec`` (``FILE.py:Class``, relative to ``base``, or
    ``package.module:Class``) under that name, once; returns the name."""
    from dflbench.losses import LOSSES
    from dflbench.plugins import resolve_class

    if spec not in LOSSES:
        LOSSES.register(spec)(plugin_loss(resolve_class(spec, base), spec))
    return spec


def plugin_loss(user_cls: type, spec: str) -> type[Loss]:
    """A Loss class training ``user_cls`` (an ``nn.Module``) per stacked model."""
    if not (inspect.isclass(user_cls) and issubclass(user_cls, nn.Module)):
        raise ConfigError(f"plugin {spec}: not a torch.nn.Module")
    user_sig = inspect.signature(user_cls)
    takes_counts = "class_counts" in user_sig.parameters
    params = [p.replace(kind=p.KEYWORD_ONLY) for p in user_sig.parameters.values()
              if p.name != "class_counts" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    reserved = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
                for n in ("class_counts", "n_models")]

    class PluginLoss(_StackedModules):
        name, title, source = spec, user_cls.__name__, f"plugin {spec}"
        needs_class_counts = takes_counts
        __signature__ = inspect.Signature([*params, *reserved])

        def __init__(self, *, class_counts: Any = None, n_models: int | None = None,
                     **kwargs: Any) -> None:
            if takes_counts:
                kwargs["class_counts"] = None if class_counts is None else list(class_counts)
            super().__init__(user_cls, spec, kwargs, n_models)

    PluginLoss.__qualname__ = PluginLoss.__name__ = f"Plugin[{user_cls.__name__}]"
    return PluginLoss


class _StackedModules(Loss):
    """``n_models`` copies of a user module (one when None), evaluated as one stack."""

    def __init__(self, user_cls: type, spec: str, kwargs: dict[str, Any],
                 n_models: int | None) -> None:
        super().__init__(reduction="mean")
        self.spec, self.n_models = spec, n_models
        try:
            modules = [user_cls(**kwargs) for _ in range(n_models or 1)]
        except Exception as exc:  # the user's constructor: its message, in one line
            raise ConfigError(f"plugin {spec}: the constructor raised {raised(exc)}") from None
        self.stack = StackedState(modules)
        self.vmap_ok: bool | None = None

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return self.stack.state()

    def _one(self, params: dict[str, Tensor], buffers: dict[str, Tensor], logits: Tensor,
             targets: Tensor) -> Tensor:
        return self.stack.call(params, buffers, logits, targets)

    def per_sample(self, logits: Tensor, targets: Tensor) -> Tensor:
        params, buffers = self._state()
        if logits.dim() == 2:  # one model: the first copy
            return self._one({k: v[0] for k, v in params.items()},
                             {k: v[0] for k, v in buffers.items()}, logits, targets)
        if self.vmap_ok is not False:
            try:
                out = vmap(self._one)(params, buffers, logits, targets)
                self.vmap_ok = True
                return out
            except Exception:
                if self.vmap_ok:  # it worked before: this is the user's error, not vmap's
                    raise
                self.vmap_ok = False  # data-dependent control flow, say: one model at a time
        return torch.stack([
            self._one({k: v[i] for k, v in params.items()}, {k: v[i] for k, v in buffers.items()},
                      logits[i], targets[i]) for i in range(logits.shape[0])])

    def learned(self) -> dict[str, Tensor]:
        """The user module's scalar parameters, one value per stacked model."""
        params, _ = self._state()
        return {k: w.detach().reshape(w.shape[0]) for k, w in params.items() if w[0].numel() == 1}


class StackedState(nn.Module):
    """The parameters and buffers of K copies of one module, stacked along a leading model
    dimension, and the module's code to run them with (``functional_call``)."""

    def __init__(self, modules: list[nn.Module]) -> None:
        super().__init__()
        params, buffers = stack_module_state(modules)
        # Module names may hold dots, parameter and buffer names may not.
        self.param_keys, self.buffer_keys = list(params), list(buffers)
        self.weights = nn.ParameterList([nn.Parameter(params[k]) for k in self.param_keys])
        for i, k in enumerate(self.buffer_keys):
            self.register_buffer(f"buffer{i}", buffers[k])
        # A tuple hides the code's own (meta, empty) tensors from parameters() and .to().
        self.code = (copy.deepcopy(modules[0]).to("meta"),)

    def state(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return (dict(zip(self.param_keys, self.weights)),
                {k: getattr(self, f"buffer{i}") for i, k in enumerate(self.buffer_keys)})

    def call(self, params: dict[str, Tensor], buffers: dict[str, Tensor], *args: Tensor) -> Tensor:
        code = self.code[0]
        code.train(self.training)
        return functional_call(code, (params, buffers), args)
