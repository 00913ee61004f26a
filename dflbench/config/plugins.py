"""The suite's plugins: the files and modules its ``plugins`` key names, the installed packages'
``dflbench.plugins`` entry points, and losses or models named ``FILE.py:Class``. Loading them runs
their code (docs/suite-file.md, "plugins"), so names are then checked against the live registries
instead of the plain-data catalog that describes dflbench's own entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dflbench import catalog
from dflbench.errors import ConfigError
from dflbench.plugins import is_file, is_spec, load_entry_points, load_module, resolve_path

REGISTRIES = {"losses": ("dflbench.losses", "LOSSES"), "datasets": ("dflbench.datasets", "SOURCES"),
              "models": ("dflbench.models", "MODELS"), "samplers": ("dflbench.samplers", "SAMPLERS")}
_LIVE = False  # set once plugin code has run in this process


def load(refs: list[str], folder: Path) -> tuple[str, ...]:
    """Load the installed entry points and the suite's plugins (files relative to ``folder``);
    returns each plugin as worker processes will load it again: an absolute path or a module."""
    if load_entry_points():
        use_registries()
    out = []
    for ref in refs:
        load_module(ref, folder)
        out.append(str(resolve_path(ref, folder)) if is_file(ref) else ref)
        use_registries()
    return tuple(out)


def use_registries() -> None:
    """From now on check names against the live registries (plugin code has registered some)."""
    global _LIVE
    _LIVE = True


def kind(name: str) -> Any:
    """What names of one kind are checked against: the catalog, or the live registry once any
    plugin code has been loaded (it may have registered entries the catalog does not list)."""
    if not _LIVE:
        return catalog.kind(name)
    import importlib

    module, attr = REGISTRIES[name]
    return getattr(importlib.import_module(module), attr)


def absolute(spec: str, folder: Path) -> str:
    """``FILE.py:Class`` with the file's path made absolute (``package.module:Class`` as is)."""
    ref, _, attr = spec.rpartition(":")
    if is_file(ref):
        return f"{resolve_path(ref, folder)}:{attr}"
    return spec


def register(kind_name: str, spec: str, folder: Path) -> str:
    """Register the plugin class ``spec`` names as a loss or model; its absolute spec."""
    if not is_spec(spec):
        return spec
    full = absolute(spec, folder)
    if kind_name == "losses":
        from dflbench.losses._plugin import register as register_loss

        register_loss(full)
    elif kind_name == "models":
        from dflbench.models._plugin import register as register_model

        register_model(full)
    else:
        raise ConfigError(f"'{spec}': a {kind_name[:-1]} cannot be named FILE.py:Class; "
                          "register it with dflbench's decorator in a plugin file")
    use_registries()
    return full


def load_for(suite: Any) -> None:
    """Load a suite's plugins in this process (a worker's): files, modules and spec names."""
    load(list(suite.plugins), Path.cwd())
    for lo in suite.losses:
        register("losses", lo.name, Path.cwd())
    register("models", suite.model.name, Path.cwd())
