"""Code from outside dflbench: plugin files and modules a suite names, installed packages that
declare the entry-point group ``dflbench.plugins``, and ``FILE.py:Class`` or
``package.module:Class`` specs naming a loss or a model.

A suite that names a plugin runs its code, as pytest runs a ``conftest.py``; result files and
cached tasks are plain JSON and never execute code. Every failure of user code — a missing file
or class, a syntax error, an exception while importing — is one ConfigError line naming the file
and what went wrong, raised before any training.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from dflbench.errors import ConfigError, did_you_mean

ENTRY_POINT_GROUP = "dflbench.plugins"
#: Plugin files loaded in this process, by resolved path (each one is executed once).
_FILES: dict[Path, ModuleType] = {}
_ENTRY_POINTS: dict[str, str] = {}


def is_spec(name: str) -> bool:
    """``FILE.py:Class`` or ``package.module:Class`` rather than a registered name."""
    return ":" in name


def is_file(ref: str) -> bool:
    """A plugin given as a ``.py`` file (or a path), not as an importable module name."""
    return ref.endswith(".py") or "/" in ref or os.sep in ref


def resolve_path(ref: str, base: Path | None) -> Path:
    """A plugin file's path: ``~`` expanded, relative paths taken from ``base`` (the suite's
    folder)."""
    path = Path(os.path.expanduser(ref))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.resolve()


def load_module(ref: str, base: Path | None = None) -> ModuleType:
    """A plugin: a ``.py`` file (relative to ``base``) or an importable module name."""
    if not is_file(ref):
        return _import(ref)
    path = resolve_path(ref, base)
    if path in _FILES:
        return _FILES[path]
    if not path.is_file():
        raise ConfigError(f"plugin {ref}: no such file ({path})")
    name = "dflbench_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so dataclasses, pickling and typing find the module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise ConfigError(f"plugin {ref}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # user code: any error becomes one line
        del sys.modules[name]
        raise ConfigError(f"plugin {ref}: importing it raised {raised(exc)}") from None
    _FILES[path] = module
    return module


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise ConfigError(f"plugin {name}: no such module (nor a .py file)") from None
        raise ConfigError(f"plugin {name}: importing it raised {raised(exc)}") from None
    except Exception as exc:
        raise ConfigError(f"plugin {name}: importing it raised {raised(exc)}") from None


def raised(exc: BaseException) -> str:
    """What user code raised, on one short line: ``RuntimeError: boom``."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def resolve_class(spec: str, base: Path | None = None) -> type:
    """The class ``FILE.py:Class`` or ``package.module:Class`` names."""
    ref, _, attr = spec.rpartition(":")
    if not ref or not attr:
        raise ConfigError(f"'{spec}': give FILE.py:Class or package.module:Class")
    module = load_module(ref, base)
    obj = getattr(module, attr, None)
    if obj is None:
        classes = sorted(n for n, v in vars(module).items()
                         if inspect.isclass(v) and v.__module__ == module.__name__)
        raise ConfigError(f"plugin {ref}: no class '{attr}'{did_you_mean(attr, classes)} "
                          f"(classes there: {', '.join(classes) or 'none'})")
    if not inspect.isclass(obj):
        raise ConfigError(f"plugin {ref}: '{attr}' is a {type(obj).__name__}, not a class")
    return obj


def load_entry_points() -> dict[str, str]:
    """Import every installed package's ``dflbench.plugins`` entry point (each registers its
    losses, datasets, models and samplers with dflbench's decorators); entry name → module."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _ENTRY_POINTS:
            continue
        try:
            ep.load()
        except Exception as exc:
            raise ConfigError(f"plugin entry point '{ep.name}' ({ep.value}): {raised(exc)}") from None
        _ENTRY_POINTS[ep.name] = ep.value
    return dict(_ENTRY_POINTS)


def origin(obj: Any) -> str:
    """Where a registered entry comes from: ``dflbench``, a plugin file, or a package."""
    module = getattr(obj, "__module__", "") or ""
    if module == "dflbench" or module.startswith("dflbench."):
        return "dflbench"
    for path, loaded in _FILES.items():
        if loaded.__name__ == module:
            return str(path)
    return module.split(".")[0] or "?"
