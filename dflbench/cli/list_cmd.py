"""``dflbench list``: the registered losses, dataset sources, shipped suites and metrics.

Listing must stay instant, so it imports neither torch nor scikit-learn (``import torch`` alone
takes about 2 s): loss and dataset-source metadata is read from the plugin modules' source with
``ast`` (the ``@LOSSES.register`` / ``@SOURCES.register`` definitions: class attributes, docstring,
signature defaults), and suites from their YAML. Whatever the static reader cannot read exactly
(a computed default, a loss subclassing another loss, ...) makes it fall back to importing the
registry, so a listing is never wrong, only slower; tests/unit/test_startup.py checks that both
ways give the same rows for every registered entry.
"""

from __future__ import annotations

import ast
import enum
import inspect
from pathlib import Path
from typing import Any

import typer

from dflbench.cli import app
from dflbench.cli._common import print_report

Row = tuple[str, ...]

_PACKAGE = Path(__file__).resolve().parent.parent  # the dflbench package folder


class Listing(str, enum.Enum):
    losses = "losses"
    datasets = "datasets"
    suites = "suites"
    metrics = "metrics"


@app.command("list")
def list_(what: Listing = typer.Argument(..., help="What to list.")) -> None:
    """List losses (with their sources), dataset sources, shipped suites or metrics."""
    from rich.table import Table

    table = Table(title=f"dflbench {what.value}", title_justify="left")
    if what is Listing.losses:
        columns, rows = ("name", "loss", "source", "parameters", "needs"), loss_rows()
    elif what is Listing.datasets:
        columns, rows = ("source", "what", "parameters"), dataset_rows()
    elif what is Listing.suites:
        columns, rows = ("suite", "datasets", "losses", "seeds", "description"), suite_rows()
    else:
        from dflbench.metrics import METRICS

        columns = ("metric", "better", "description")
        rows = [(name, "higher" if info.higher_is_better else "lower", info.description)
                for name, info in METRICS.items()]
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    print_report(table)


def loss_rows() -> list[Row]:
    """(name, title, source, parameters, needs) of every registered loss, sorted by name."""
    rows = static_loss_rows()
    return rows if rows is not None else imported_loss_rows()


def dataset_rows() -> list[Row]:
    """(source, first docstring line, parameters) of every dataset source, sorted by name."""
    rows = static_dataset_rows()
    return rows if rows is not None else imported_dataset_rows()


def suite_rows() -> list[Row]:
    """(suite, datasets, losses, seeds, description) of every shipped suite."""
    rows = static_suite_rows()
    return rows if rows is not None else loaded_suite_rows()


# --- by importing the registries (the reference; slow) ----------------------------------------


def _defaults(factory: object, skip: tuple[str, ...]) -> str:
    parts = []
    for p in inspect.signature(factory).parameters.values():
        if p.name in skip or p.name == "self" or p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(parts)


def _needs(needs_class_counts: bool, head: str) -> str:
    needs = ", ".join(filter(None, ["class counts" if needs_class_counts else "",
                                    f"{head} head" if head != "linear" else ""]))
    return needs or "—"


def imported_loss_rows() -> list[Row]:
    from dflbench.losses import LOSSES, RESERVED

    rows = []
    for name in LOSSES.names():
        cls = LOSSES.get(name)
        rows.append((name, cls.title, cls.source, _defaults(cls, RESERVED),
                     _needs(cls.needs_class_counts, cls.head)))
    return rows


def imported_dataset_rows() -> list[Row]:
    from dflbench.datasets import SOURCES

    rows = []
    for name in SOURCES.names():
        loader = SOURCES.get(name)
        doc = (inspect.getdoc(loader) or "").splitlines()
        rows.append((name, doc[0] if doc else "", _defaults(loader, ())))
    return rows


def loaded_suite_rows() -> list[Row]:
    from dflbench.config import load_suite, shipped_suites

    rows = []
    for name in shipped_suites():
        s = load_suite(name)
        rows.append((name, str(len(s.datasets)), str(len(s.losses)), str(len(s.seeds)),
                     s.description))
    return rows


# --- by reading the source (no torch, no scikit-learn) ----------------------------------------


class _Unreadable(Exception):
    """The static reader met something it cannot evaluate without importing."""


def _literal(node: ast.AST | None) -> Any:
    if node is None:
        raise _Unreadable
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _Unreadable from None


def _registered(package: str, registry: str) -> list[tuple[str, ast.AST]]:
    """(name, definition) of every ``@<registry>.register("name")`` in the package's modules."""
    found = []
    for path in sorted((_PACKAGE / package).glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            raise _Unreadable from None
        for node in tree.body:
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                continue
            for dec in node.decorator_list:
                if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr == "register" and isinstance(dec.func.value, ast.Name)
                        and dec.func.value.id == registry):
                    if len(dec.args) != 1 or dec.keywords:
                        raise _Unreadable
                    found.append((_literal(dec.args[0]), node))
    names = [name for name, _ in found]
    if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
        raise _Unreadable  # the registry would refuse it: let the import say so
    return sorted(found, key=lambda item: item[0])


def _signature(fn: ast.FunctionDef, skip: tuple[str, ...]) -> str:
    """What :func:`_defaults` prints, from the definition's source."""
    a = fn.args
    positional = a.args
    pos_defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = list(zip(positional, pos_defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
    parts = []
    for arg, default in params:
        if arg.arg in skip or arg.arg == "self":
            continue
        parts.append(arg.arg if default is None else f"{arg.arg}={_literal(default)!r}")
    return ", ".join(parts)


def _reserved_loss_params() -> tuple[str, ...]:
    tree = ast.parse((_PACKAGE / "losses" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "RESERVED" for t in targets):
            return tuple(_literal(node.value))
    raise _Unreadable


def static_loss_rows() -> list[Row] | None:
    """:func:`imported_loss_rows` read from source, or None where that is not exact."""
    defaults = {"needs_class_counts": False, "head": "linear"}  # the values on Loss itself
    try:
        reserved = _reserved_loss_params()
        rows = []
        for name, node in _registered("losses", "LOSSES"):
            # Attributes and __init__ inherited from anything but Loss are not followed.
            if not isinstance(node, ast.ClassDef) or [ast.unparse(b) for b in node.bases] != ["Loss"]:
                raise _Unreadable
            attrs: dict[str, Any] = dict(defaults)
            init = None
            for item in node.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 \
                        and isinstance(item.targets[0], ast.Name):
                    key, value = item.targets[0].id, item.value
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    key, value = item.target.id, item.value
                elif isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    init = item
                    continue
                else:
                    continue
                if key in ("name", "title", "source", "needs_class_counts", "head"):
                    attrs[key] = _literal(value)
            if init is None or attrs.get("name") != name or "title" not in attrs \
                    or "source" not in attrs:
                raise _Unreadable
            rows.append((name, str(attrs["title"]), str(attrs["source"]),
                         _signature(init, reserved),
                         _needs(bool(attrs["needs_class_counts"]), str(attrs["head"]))))
        return rows
    except _Unreadable:
        return None


def static_dataset_rows() -> list[Row] | None:
    """:func:`imported_dataset_rows` read from source, or None where that is not exact."""
    try:
        rows = []
        for name, node in _registered("datasets", "SOURCES"):
            if not isinstance(node, ast.FunctionDef):
                raise _Unreadable
            doc = ast.get_docstring(node) or ""
            rows.append((name, doc.splitlines()[0] if doc else "", _signature(node, ())))
        return rows
    except _Unreadable:
        return None


def static_suite_rows() -> list[Row] | None:
    """:func:`loaded_suite_rows` from the YAML alone (no validation, which needs the registries),
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
