"""A model from outside dflbench, trained by the batched engine.

The contract (README, "Bring your own model"): a ``torch.nn.Module`` for ONE model, whose
``forward(x)`` maps a batch of rows (B, *row) to logits (B, C) — or, declaring the class attribute
``task = "segmentation"``, images (B, C, H, W) to per-pixel logits (B, H, W, C). Its constructor takes the suite's
parameters, plus any of ``n_features``, ``n_classes`` and ``input_shape`` it accepts. Each stacked
model is built under its own seed (``torch.manual_seed``), so a seed fixes its initialisation as
for the built-in models; their parameters are stacked with a leading model dimension
(``torch.func.stack_module_state``) and run with ``vmap`` over ``functional_call`` — the fast
path — or one model at a time when the module does not allow ``vmap`` (random layers such as
dropout, data-dependent control flow). Gradients come from autograd.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import vmap

from dflbench.errors import ConfigError
from dflbench.losses._plugin import StackedState
from dflbench.plugins import raised

#: What dflbench passes a plugin model when its constructor accepts it.
FROM_DATA = ("n_features", "n_classes", "input_shape")


def register(spec: str) -> str:
    """Register the plugin model ``spec`` (``/abs/FILE.py:Class`` or ``package.module:Class``)
    under that name, once; returns the name."""
    from dflbench.models import MODELS
    from dflbench.plugins import resolve_class

    if spec not in MODELS:
        MODELS.register(spec)(plugin_model(resolve_class(spec), spec))
    return spec


def plugin_model(user_cls: type, spec: str) -> type[nn.Module]:
    """An engine model class stacking ``user_cls`` (an ``nn.Module`` for one model)."""
    if not (inspect.isclass(user_cls) and issubclass(user_cls, nn.Module)):
        raise ConfigError(f"plugin {spec}: not a torch.nn.Module")
    user_sig = inspect.signature(user_cls)
    given = [n for n in FROM_DATA if n in user_sig.parameters]
    params = [p.replace(kind=p.KEYWORD_ONLY) for p in user_sig.parameters.values()
              if p.name not in FROM_DATA and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    reserved = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
                for n in ("n_models", "n_features", "n_classes", "seeds", "head", "input_shape")]

    class PluginModel(_StackedModel):
        __signature__ = inspect.Signature([*params, *reserved])
        # A segmentation model says so (task = "segmentation") and maps (B, C, H, W) to (B, H, W, C).
        task = getattr(user_cls, "task", "classification")

        def __init__(self, *, n_models: int, n_features: int, n_classes: int,
                     seeds: Sequence[int], head: str = "linear", input_shape: Sequence[int] = (),
                     **kwargs: Any) -> None:
            data = {"n_features": n_features, "n_classes": n_classes,
                    "input_shape": tuple(input_shape)}
            super().__init__(user_cls, spec, {**kwargs, **{n: data[n] for n in given}},
                             n_models, seeds, head)

    PluginModel.__qualname__ = PluginModel.__name__ = f"Plugin[{user_cls.__name__}]"
    return PluginModel


class _StackedModel(nn.Module):
    """K seeded copies of a user model, (K, B, *row) → (K, B, C)."""

    def __init__(self, user_cls: type, spec: str, kwargs: dict[str, Any], n_models: int,
                 seeds: Sequence[int], head: str) -> None:
        super().__init__()
        if head != "linear":
            raise ConfigError(f"plugin model {spec} gives plain logits; a loss that needs the "
                              f"'{head}' head cannot train it")
        if len(seeds) != n_models:
            raise ValueError(f"model {spec}: one seed per model is required "
                             f"({len(seeds)} seeds for {n_models} models)")
        modules = []
        for seed in seeds:
            with torch.random.fork_rng():
                torch.manual_seed(int(seed))
                try:
                    modules.append(user_cls(**kwargs))
                except Exception as exc:  # the user's constructor: its message, in one line
                    raise ConfigError(f"plugin {spec}: the constructor raised {raised(exc)}") from None
        self.stack = StackedState(modules)
        self.vmap_ok: bool | None = None

    def forward(self, x: Tensor) -> Tensor:
        params, buffers = self.stack.state()
        if self.vmap_ok is not False:
            try:
                out = vmap(self.stack.call)(params, buffers, x)
                self.vmap_ok = True
                return out
            except Exception:
                if self.vmap_ok:
                    raise
                self.vmap_ok = False
        return torch.stack([self.stack.call({k: v[i] for k, v in params.items()},
                                            {k: v[i] for k, v in buffers.items()}, x[i])
                            for i in range(x.shape[0])])
