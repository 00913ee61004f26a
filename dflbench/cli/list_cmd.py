"""``dflbench list``: the registered losses, dataset sources, models and samplers, the shipped
suites and the metrics.

Listing must stay instant, so it imports neither torch nor scikit-learn: registered entries are read
from the plain-data catalog generated from the registries (``dflbench.catalog``), suites from their
YAML; tests/unit/test_startup.py checks that no heavy module is imported.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import typer

from dflbench.cli import app
from dflbench.cli._common import print_report

Row = tuple[str, ...]


class Listing(str, enum.Enum):
    losses = "losses"
    datasets = "datasets"
    models = "models"
    samplers = "samplers"
    suites = "suites"
    metrics = "metrics"


@app.command("list")
def list_(what: Listing = typer.Argument(..., help="What to list.")) -> None:
    """List losses (with their sources), dataset sources, models, samplers, shipped suites or
    metrics."""
    from rich.table import Table

    columns, rows = _LISTINGS[what]
    table = Table(title=f"dflbench {what.value}", title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows():
        table.add_row(*row)
    print_report(table)


def _entries(kind: str) -> list[tuple[dict, str]]:
    """Every entry of ``kind`` with where it comes from: dflbench's own from the catalog, then
    those installed packages register through the ``dflbench.plugins`` entry points (loading
    them runs their code, and so imports what they import)."""
    from dflbench import catalog
    from dflbench.plugins import load_entry_points, origin

    own = [(e, "dflbench") for e in catalog.entries(kind)]
    if not load_entry_points():
        return own
    from dflbench.catalog._build import entry, loss_entry
    from dflbench.config import plugins

    plugins.use_registries()
    registry, known = plugins.kind(kind), {e["name"] for e in catalog.entries(kind)}
    build = loss_entry if kind == "losses" else entry
    extra = [(build(n, registry.get(n), ()), origin(registry.get(n)))
             for n in registry.names() if n not in known]
    return own + extra


def loss_rows() -> list[Row]:
    """(name, title, source, parameters, needs, from) of every registered loss, by name."""
    from dflbench import catalog

    rows = []
    for e, where in _entries("losses"):
        needs = ", ".join(filter(None, ["class counts" if e["needs_class_counts"] else "",
                                        f"{e['head']} head" if e["head"] != "linear" else "",
                                        "whole batch (region)" if e.get("region") else ""]))
        rows.append((e["name"], e["title"], e["source"], catalog.signature(e), needs or "—", where))
    return rows


def _described(kind: str) -> Callable[[], list[Row]]:
    """(name, summary, parameters, from) of every registered entry of ``kind``, by name."""

    def rows() -> list[Row]:
        from dflbench import catalog

        return [(e["name"], e["summary"], catalog.signature(e), where) for e, where in _entries(kind)]

    return rows


def suite_rows() -> list[Row]:
    """(suite, datasets, losses, seeds, description) of every shipped suite."""
    rows = static_suite_rows()
    return rows if rows is not None else loaded_suite_rows()


def metric_rows() -> list[Row]:
    from dflbench.metrics import METRICS

    return [(name, "higher" if info.higher_is_better else "lower", info.description)
            for name, info in METRICS.items()]


def loaded_suite_rows() -> list[Row]:
    from dflbench.config import load_suite, shipped_suites

    rows = []
    for name in shipped_suites():
        s = load_suite(name)
        rows.append((name, str(len(s.datasets)), str(len(s.losses)), str(len(s.seeds)),
                     s.description))
    return rows


def static_suite_rows() -> list[Row] | None:
    """:func:`loaded_suite_rows` from the YAML alone (validation needs the registries, so torch),
    or None for a file that does not have the plain shape (loading it then reports the error)."""
    import yaml

    from dflbench.config import shipped_suites

    rows = []
    for name, path in shipped_suites().items():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        if not isinstance(data, dict):
            return None
        seeds, datasets, losses = data.get("seeds", 5), data.get("datasets"), data.get("losses")
        description = data.get("description", "")
        if isinstance(seeds, bool) or not isinstance(seeds, (int, list)) \
                or not isinstance(datasets, list) or not isinstance(losses, list) \
                or not isinstance(description, str):
            return None
        n_seeds = seeds if isinstance(seeds, int) else len(seeds)
        rows.append((name, str(len(datasets)), str(len(losses)), str(n_seeds), description))
    return rows


_LISTINGS: dict[Listing, tuple[tuple[str, ...], Callable[[], list[Row]]]] = {
    Listing.losses: (("name", "loss", "source", "parameters", "needs", "from"), loss_rows),
    Listing.datasets: (("source", "what", "parameters", "from"), _described("datasets")),
    Listing.models: (("model", "what", "parameters", "from"), _described("models")),
    Listing.samplers: (("sampler", "what", "parameters", "from"), _described("samplers")),
    Listing.suites: (("suite", "datasets", "losses", "seeds", "description"), suite_rows),
    Listing.metrics: (("metric", "better", "description"), metric_rows),
}
