"""Parameter rules, declared once and checked by one mechanism: suite keys, loss parameters,
imbalance specifications, samplers and models all state what they accept as a :class:`Rule`
(type, range, choices), and every violation reads the same way::

    <where>: <name>: <value> is invalid (expected <what is valid>)[; did you mean '<x>'?]

Torch-free, so a suite is validated before anything heavy is imported.
"""

from __future__ import annotations

import math
import os
import re
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from numbers import Real
from typing import Any

from dflbench.errors import ConfigError, did_you_mean

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
               list: "a list", dict: "a mapping"}
#: The kinds a rule may have, by the name the plain-data catalog gives them.
KINDS = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}
#: What a ``path`` rule accepts: an existing file, an existing folder, or a folder that may not
#: exist yet (a cache). Relative paths are resolved against the suite file's folder.
PATH_KINDS = {"file": "a file path", "folder": "a folder path", "cache": "a folder path"}
#: A number in exponent notation that YAML 1.1 (PyYAML) reads as a string: ``1e-3`` (no dot),
#: ``1.0e3`` (no exponent sign). The user meant the number.
_EXPONENT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 4, 4, 60, 60


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters: a message never echoes a huge value (nor
    spends time writing one out: a YAML alias bomb's repr would never end)."""
    text = _REPR.repr(value) if not isinstance(value, str) else repr(value[:limit])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bound(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Rule:
    """What one parameter accepts.

    ``kind`` is int, float (integers accepted), str, bool, list or dict; ``ge``/``gt``/``le``/``lt``
    bound a number (or a list's items, with ``items``); ``choices`` lists the valid values;
    ``nullable`` admits None; ``items`` is the rule of each element of a list; ``min_len`` the
    shortest length of a list or string. ``path`` (one of :data:`PATH_KINDS`, with ``kind`` str)
    marks a filesystem path, which a suite resolves against its own folder, or against the
    parameter named ``base`` when that is given (docs/suite-file.md).
    """

    kind: type
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[Any, ...] | None = None
    nullable: bool = False
    items: Rule | None = None
    min_len: int = 0
    path: str | None = None
    base: str | None = None

    def to_data(self) -> dict[str, Any]:
        """The rule as plain JSON data (what ``catalog.json`` stores): ``kind`` by name and the
        fields that differ from their defaults."""
        out: dict[str, Any] = {"kind": self.kind.__name__}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kind" or value == f.default:
                continue
            out[f.name] = value.to_data() if isinstance(value, Rule) else \
                list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rule:
        """The rule :meth:`to_data` wrote."""
        values = {k: v for k, v in data.items() if k != "kind"}
        if "items" in values:
            values["items"] = cls.from_data(values["items"])
        if "choices" in values:
            values["choices"] = tuple(values["choices"])
        return cls(KINDS[data["kind"]], **values)

    def describe(self) -> str:
        """What is valid, in words: ``an integer >= 1``, ``a number in (0, 1)``, ``one of a, b``."""
        if self.path is not None:
            text = PATH_KINDS[self.path]
        elif self.choices is not None:
            text = "one of " + ", ".join(str(c) for c in self.choices)
        elif self.kind is list:
            text = "a non-empty list" if self.min_len else "a list"
            if self.items is not None and self.items.choices is not None:
                text += ", each " + self.items.describe()
            elif self.items is not None:
                text += " of " + self.items.describe().replace("an integer", "integers")\
                    .replace("a number", "numbers")
        elif self.kind is str and self.min_len:
            text = "a non-empty string"
        else:
            text = _TYPE_NAMES.get(self.kind, self.kind.__name__) + self._range()
        return text + (" or null" if self.nullable else "")

    def _range(self) -> str:
        lo = f"[{_bound(self.ge)}" if self.ge is not None else f"({_bound(self.gt)}" \
            if self.gt is not None else None
        hi = f"{_bound(self.le)}]" if self.le is not None else f"{_bound(self.lt)})" \
            if self.lt is not None else None
        if lo and hi:
            return f" in {lo}, {hi}"
        parts = [f"{op} {_bound(v)}" for op, v in ((">=", self.ge), (">", self.gt), ("<=", self.le),
                                                   ("<", self.lt)) if v is not None]
        return (" " + " and ".join(parts)) if parts else ""

    def check(self, value: Any, name: str) -> Any:
        """``value`` if valid (ints as floats for a float rule, a number typed as a YAML 1.1
        string as the number); else ConfigError in the one shape, naming ``name``."""
        if value is None and self.nullable:
            return None
        given, value = value, self._coerce(value)
        if not self._valid(value):
            hint = did_you_mean(given, [str(c) for c in self.choices]) \
                if self.choices is not None and isinstance(given, str) else ""
            raise ConfigError(f"{name}: {short(given)} is invalid (expected {self.describe()}){hint}")
        if self.kind is list and self.items is not None:
            return [self.items.check(v, f"{name}[{i}]") for i, v in enumerate(value)]
        return value

    def _coerce(self, value: Any) -> Any:
        if self.path is not None and isinstance(value, os.PathLike):
            return os.fspath(value)
        if self.kind is float and isinstance(value, str) and _EXPONENT.match(value.strip()):
            return float(value)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def _valid(self, value: Any) -> bool:
        if isinstance(value, bool) and self.kind is not bool:
            return False
        if self.kind is float:
            if not isinstance(value, Real) or not math.isfinite(float(value)):
                return False
        elif not isinstance(value, (list, tuple) if self.kind is list else self.kind):
            return False
        if self.choices is not None and value not in self.choices:
            return False
        if self.kind in (list, str):
            return len(value) >= self.min_len
        return not isinstance(value, (int, float)) or self._in_range(float(value))

    def _in_range(self, x: float) -> bool:
        return not ((self.ge is not None and not x >= self.ge) or (self.gt is not None and not x > self.gt)
                    or (self.le is not None and not x <= self.le)
                    or (self.lt is not None and not x < self.lt))


#: Rules used in several places.
POSITIVE_INT = Rule(int, ge=1)
FRACTION = Rule(float, gt=0, lt=1)


def choices(values: Sequence[str]) -> Rule:
    return Rule(str, choices=tuple(values))


def path_rule(kind: str, *, nullable: bool = False, base: str | None = None) -> Rule:
    """A filesystem path parameter (``kind``: one of :data:`PATH_KINDS`)."""
    return Rule(str, min_len=1, path=kind, nullable=nullable, base=base)
