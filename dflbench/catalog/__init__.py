"""What the registries hold, as plain data: ``dflbench list`` reads it without importing torch or
scikit-learn (``import torch`` alone takes about 2 s).

``catalog.json`` is generated from the registries by ``python -m dflbench.catalog --write`` (run it
after adding or changing a loss, dataset source, model or sampler); a test fails, naming that
command, whenever the file no longer equals what the registries say. Its shape::

    {"losses": [entry, ...], "datasets": [...], "models": [...], "samplers": [...]}

one entry per registered name, sorted by name: ``name``; ``summary``, the first paragraph of its
docstring on one line; ``parameters``, those a suite may set, in signature order, each
``{"name", "type"?, "default"?, "rule"?}`` (``type`` as annotated, ``default`` as Python's
``repr``, no default meaning required; ``rule``, the entry's declared rule as plain data,
:meth:`dflbench.params.Rule.to_data`). Suites are checked against it (:class:`Kind`) before
anything heavy is imported. Losses add ``title``, ``source`` (the paper), ``needs_class_counts`` and
``head`` (see ``dflbench.losses``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from dflbench.params import Rule
from dflbench.registry import check_entry_params

KINDS = ("losses", "datasets", "models", "samplers")
PATH = Path(__file__).resolve().with_name("catalog.json")
WRITE_COMMAND = "python -m dflbench.catalog --write"

Entry = dict[str, Any]


@functools.cache
def load() -> dict[str, list[Entry]]:
    """The shipped catalog."""
    return json.loads(PATH.read_text(encoding="utf-8"))


def entries(kind: str) -> list[Entry]:
    """The entries of one kind (one of :data:`KINDS`), sorted by name."""
    return load()[kind]


def signature(entry: Entry) -> str:
    """An entry's parameters as a call would spell them: ``path, sep=','``."""
    return ", ".join(p["name"] if "default" not in p else f"{p['name']}={p['default']}"
                     for p in entry["parameters"])


#: What each kind's registry calls one entry; its messages say "loss 'x'", "dataset source 'y'".
LABELS = {"losses": "loss", "datasets": "dataset source", "models": "model", "samplers": "sampler"}


class Kind:
    """One kind of entry as the catalog lists it, checked the way its registry checks it (names,
    ``in``, :meth:`check_params` with the same rules and messages), so a suite is validated
    without importing torch or scikit-learn; the registries check again when entries are built."""

    def __init__(self, kind: str) -> None:
        self.label = LABELS[kind]
        self._entries = {e["name"]: e for e in entries(kind)}

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def rules(self, name: str) -> dict[str, Rule]:
        """The rules entry ``name`` declares, as :class:`dflbench.params.Rule` objects."""
        return {p["name"]: Rule.from_data(p["rule"])
                for p in self._entries[name]["parameters"] if "rule" in p}

    def check_params(self, name: str, params: dict[str, Any], *,
                     reserved: tuple[str, ...] = ()) -> dict[str, Any]:
        """``params`` checked like ``Registry.check_params`` (ConfigError in the same words)."""
        accepted = [p["name"] for p in self._entries[name]["parameters"] if p["name"] not in reserved]
        return check_entry_params(self.label, name, params, accepted, self.rules(name))


@functools.cache
def kind(name: str) -> Kind:
    """The catalog's view of one of :data:`KINDS`."""
    return Kind(name)
