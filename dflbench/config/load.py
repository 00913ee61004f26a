"""Finding and reading suite files: a shipped suite by name, or a YAML file (safe loader only)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from dflbench.config.parse import parse_suite
from dflbench.config.suite import Suite
from dflbench.errors import ConfigError, unknown


def suites_dir() -> Path:
    """Folder of the suites shipped with dflbench (inside the wheel, or the repo's ``suites/``)."""
    packaged = Path(str(resources.files("dflbench"))) / "suites"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "suites"


def shipped_suites() -> dict[str, Path]:
    return {p.stem: p for p in sorted(suites_dir().glob("*.yaml"))}


def resolve_suite_path(name_or_path: str) -> Path:
    """``NAME`` of a shipped suite, or a path to a YAML file."""
    shipped = shipped_suites()
    if name_or_path in shipped:
        return shipped[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in name_or_path:
        if not path.is_file():
            raise ConfigError(f"suite file not found: {name_or_path}")
        return path
    raise ConfigError(unknown("suite", name_or_path, shipped))


def load_suite(name_or_path: str) -> Suite:
    """Load and validate a suite by shipped name or path."""
    path = resolve_suite_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read suite file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    return parse_suite(data, source=str(path))
