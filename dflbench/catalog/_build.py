"""The catalog built from the registries themselves (imports torch and scikit-learn)."""

from __future__ import annotations

import inspect
import json
from typing import Any

from dflbench.catalog import KINDS, Entry
from dflbench.params import Rule


def build() -> dict[str, list[Entry]]:
    """The catalog as the registries describe it now."""
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.losses import RESERVED as LOSS_RESERVED
    from dflbench.models import MODELS
    from dflbench.models import RESERVED as MODEL_RESERVED
    from dflbench.registry import LOSS_TRAINER_OWNED
    from dflbench.samplers import RESERVED as SAMPLER_RESERVED
    from dflbench.samplers import SAMPLERS

    loss_reserved = (*LOSS_RESERVED, *LOSS_TRAINER_OWNED)
    return {
        "losses": [loss_entry(name, LOSSES.get(name), loss_reserved, LOSSES.rules(name))
                   for name in LOSSES.names()],
        "datasets": [entry(name, SOURCES.get(name), (), SOURCES.rules(name))
                     for name in SOURCES.names()],
        "models": [entry(name, MODELS.get(name), MODEL_RESERVED, MODELS.rules(name))
                   for name in MODELS.names()],
        "samplers": [entry(name, SAMPLERS.get(name), SAMPLER_RESERVED, SAMPLERS.rules(name))
                     for name in SAMPLERS.names()],
    }


def entry(name: str, obj: Any, reserved: tuple[str, ...],
          rules: dict[str, Rule] | None = None) -> Entry:
    """Name, summary and parameters (with their rules) of a registered class or factory."""
    paragraphs = (inspect.getdoc(obj) or "").split("\n\n")
    return {"name": name, "summary": " ".join(paragraphs[0].split()),
            "parameters": parameters(obj, reserved, rules)}


def loss_entry(name: str, cls: Any, reserved: tuple[str, ...],
               rules: dict[str, Rule] | None = None) -> Entry:
    """:func:`entry` plus what a loss declares about itself (inherited attributes included)."""
    return {"name": name, "title": cls.title, "source": cls.source,
            **entry(name, cls, reserved, rules),
            "needs_class_counts": bool(cls.needs_class_counts), "head": cls.head,
            "region": bool(getattr(cls, "region", False))}


def parameters(obj: Any, reserved: tuple[str, ...],
               rules: dict[str, Rule] | None = None) -> list[dict[str, Any]]:
    """The keyword parameters of ``obj`` that a suite may set, as plain data, each with its rule
    (:meth:`dflbench.params.Rule.to_data`) when the entry declares one."""
    rules = rules or {}
    out = []
    for p in inspect.signature(obj).parameters.values():
        if p.name in reserved or p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        described: dict[str, Any] = {"name": p.name}
        if p.annotation is not p.empty:
            # Postponed annotations are their source text; others are formatted as Python would.
            described["type"] = (p.annotation if isinstance(p.annotation, str)
                                 else inspect.formatannotation(p.annotation))
        if p.default is not p.empty:
            described["default"] = repr(p.default)
        if p.name in rules:
            described["rule"] = rules[p.name].to_data()
        out.append(described)
    return out


def differences(built: dict[str, list[Entry]], shipped: dict[str, list[Entry]]) -> list[str]:
    """What changed between two catalogs, one line per entry (empty when they are equal)."""
    out = []
    for kind in KINDS:
        new = {e["name"]: e for e in built.get(kind, [])}
        old = {e["name"]: e for e in shipped.get(kind, [])}
        out += [f"{kind}: '{n}' is registered but missing" for n in sorted(new.keys() - old.keys())]
        out += [f"{kind}: '{n}' is no longer registered" for n in sorted(old.keys() - new.keys())]
        out += [f"{kind}: '{n}' has changed" for n in sorted(new.keys() & old.keys()) if new[n] != old[n]]
    if not out and built != shipped:
        out.append("the file's layout differs from the generated one")
    return out


def render(catalog: dict[str, list[Entry]]) -> str:
    """The catalog as ``catalog.json`` holds it."""
    return json.dumps(catalog, indent=1, ensure_ascii=False) + "\n"
