"""``dflbench list``: the registered losses, dataset sources, shipped suites and metrics."""

from __future__ import annotations

import enum
import inspect

import typer

from dflbench.cli import app
from dflbench.cli._common import stdout_console


class Listing(str, enum.Enum):
    losses = "losses"
    datasets = "datasets"
    suites = "suites"
    metrics = "metrics"


def _defaults(factory: object, skip: tuple[str, ...]) -> str:
    parts = []
    for p in inspect.signature(factory).parameters.values():
        if p.name in skip or p.name == "self" or p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(parts)


@app.command("list")
def list_(what: Listing = typer.Argument(..., help="What to list.")) -> None:
    """List losses (with their sources), dataset sources, shipped suites or metrics."""
    from rich.table import Table

    table = Table(title=f"dflbench {what.value}", title_justify="left")
    if what is Listing.losses:
        from dflbench.losses import LOSSES, RESERVED

        for col in ("name", "loss", "source", "parameters", "needs"):
            table.add_column(col)
        for name in LOSSES.names():
            cls = LOSSES.get(name)
            needs = ", ".join(filter(None, ["class counts" if cls.needs_class_counts else "",
                                            f"{cls.head} head" if cls.head != "linear" else ""]))
            table.add_row(name, cls.title, cls.source, _defaults(cls, RESERVED), needs or "—")
    elif what is Listing.datasets:
        from dflbench.datasets import SOURCES

        for col in ("source", "what", "parameters"):
            table.add_column(col)
        for name in SOURCES.names():
            loader = SOURCES.get(name)
            doc = (inspect.getdoc(loader) or "").splitlines()[0]
            table.add_row(name, doc, _defaults(loader, ()))
    elif what is Listing.suites:
        from dflbench.config import load_suite, shipped_suites

        for col in ("suite", "datasets", "losses", "seeds", "description"):
            table.add_column(col)
        for name in shipped_suites():
            s = load_suite(name)
            table.add_row(name, str(len(s.datasets)), str(len(s.losses)), str(len(s.seeds)),
                          s.description)
    else:
        from dflbench.metrics import METRICS

        for col in ("metric", "better", "description"):
            table.add_column(col)
        for name, info in METRICS.items():
            table.add_row(name, "higher" if info.higher_is_better else "lower", info.description)
    stdout_console().print(table)
