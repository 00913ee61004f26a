"""Finding and reading suite files: a shipped suite by name, or a YAML file (safe loader only).

The loader is PyYAML's safe loader made strict where YAML is lenient to a fault: a key given twice
in one mapping is an error (YAML keeps the last silently), and a document whose aliases expand to
more than :data:`MAX_VALUES` values (an "alias bomb") is refused before it is built.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dflbench.config.parse import parse_suite
from dflbench.config.suite import Suite
from dflbench.errors import ConfigError, unknown
from dflbench.params import short

#: The most values (scalars, lists, mappings) a suite may expand to, aliases counted each time
#: they are used; a real suite has a few hundred.
MAX_VALUES = 100_000
#: The largest suite file read (a suite is a short text; this stops ``--suite /dev/zero``).
MAX_BYTES = 1 << 20


def suites_dir() -> Path:
    """Folder of the suites shipped with dflbench (inside the wheel, or the repo's ``suites/``)."""
    packaged = Path(str(resources.files("dflbench"))) / "suites"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "suites"


def shipped_suites() -> dict[str, Path]:
    return {p.stem: p for p in sorted(suites_dir().glob("*.yaml"))}


def resolve_suite_path(name_or_path: str) -> Path:
    """``NAME`` of a shipped suite, or a path to a YAML file (``~`` expanded; a pipe such as
    ``<(generate-suite)`` is read like a file)."""
    shipped = shipped_suites()
    if name_or_path in shipped:
        return shipped[name_or_path]
    if not name_or_path.strip():
        raise ConfigError(f"--suite: give a suite YAML file or a shipped suite ({', '.join(shipped)})")
    path = Path(os.path.expanduser(name_or_path))
    if path.is_dir():
        raise ConfigError(f"--suite: '{name_or_path}' is a folder; give a suite YAML file or a "
                          f"shipped suite ({', '.join(shipped)})")
    if path.exists():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in name_or_path or name_or_path.startswith("~"):
        shown = name_or_path if str(path) == name_or_path else f"{name_or_path} ({path})"
        raise ConfigError(f"suite file not found: {shown}")
    raise ConfigError(unknown("suite", name_or_path, shipped))


def _read(path: Path) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: cannot read suite file ({reason})") from None
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES >> 20} MiB; a suite file is a short "
                          "YAML text")
    return text


def load_suite(name_or_path: str) -> Suite:
    """Load and validate a suite by shipped name or path; relative paths inside it resolve
    against the file's folder (the current folder for a pipe)."""
    path = resolve_suite_path(name_or_path)
    data = read_yaml(_read(path), str(path))
    base = path.resolve().parent if path.is_file() else Path.cwd()
    return parse_suite(data, source=str(path), base=base)


def read_yaml(text: str, where: str) -> Any:
    """The one YAML document in ``text``; every problem is one ConfigError naming ``where``
    (and the line and column, when YAML knows them)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no tags constructed
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        raise ConfigError(f"{at}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {short(str(exc), 120)}") from None
    except RecursionError:
        raise ConfigError(f"{where}: invalid YAML: nested too deeply") from None


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys and documents that aliases blow up."""

    def construct_document(self, node: yaml.Node) -> Any:
        if _expanded_size(node) > MAX_VALUES:
            raise yaml.constructor.ConstructorError(
                None, None, f"its aliases (*name) expand to more than {MAX_VALUES} values; "
                            "write the values out", node.start_mark)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the constructor reports it
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {short(key)} appears twice in one mapping (first on "
                                    f"line {first.line + 1}); YAML would keep only the last",
                        key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes ``root`` becomes once every alias is expanded (a shared node counts each
    time it is used), computed once per distinct node and stopping early past the limit; a node
    that contains itself (``&a [*a]``) expands without end."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if ready or not children:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_VALUES:
                return total
            sizes[id(node)] = total
            open_nodes.discard(id(node))
            continue
        if any(id(c) in open_nodes or c is node for c in children):
            return MAX_VALUES + 1
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
