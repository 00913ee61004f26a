"""What the registries hold, as plain data: ``dflbench list`` reads it without importing torch or
scikit-learn (``import torch`` alone takes about 2 s).

``catalog.json`` is generated from the registries by ``python -m dflbench.catalog --write`` (run it
after adding or changing a loss, dataset source, model or sampler); a test fails, naming that
command, whenever the file no longer equals what the registries say. Its shape::

    {"losses": [entry, ...], "datasets": [...], "models": [...], "samplers": [...]}

one entry per registered name, sorted by name: ``name``; ``summary``, the first paragraph of its
docstring on one line; ``parameters``, those a suite may set, in signature order, each
``{"name", "type"?, "default"?}`` (``type`` as annotated, ``default`` as Python's ``repr``; no
default means required). Losses add ``title``, ``source`` (the paper), ``needs_class_counts`` and
``head`` (see ``dflbench.losses``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

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
