"""A small named registry: one decorator, one explicit name, duplicates fail loudly.

Parameters passed to ``build`` are checked against the registered callable's signature, so a typo in
a suite file is an error that lists the valid parameters, and against the parameter rules the
decorator declares (:class:`dflbench.params.Rule`: type, range, choices), so a bad value is an
error in the one shape of :mod:`dflbench.params` (docs/design.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from dflbench.errors import ConfigError, did_you_mean, unknown
from dflbench.params import Rule

T = TypeVar("T")

#: The constructor arguments dflbench gives every model (the contract of ``dflbench.models``); a
#: suite may not set them. Declared here, outside that package, so it can be read without torch.
MODEL_RESERVED = ("n_models", "n_features", "n_classes", "seeds", "head", "input_shape")
#: Loss parameters of the Python API that a suite may not set, with the reason: the benchmark's
#: trainer decides them (it needs one loss per model, the mean over each minibatch, so a summed or
#: per-sample loss would change the step size or break the step).
LOSS_TRAINER_OWNED = {"reduction": "the trainer always averages each minibatch (one loss per "
                                   "model); reduction is for a loss used in your own code"}


class Registry(Generic[T]):
    """Maps names to classes or factories of one kind (losses, datasets, models...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._rules: dict[str, dict[str, Rule]] = {}

    def register(self, name: str, *, rules: Mapping[str, Rule] | None = None) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name`` with the rules its parameters must follow;
        a second registration of a name raises."""

        def decorate(obj: T) -> T:
            if name in self._items:
                raise RuntimeError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = obj
            self._rules[name] = dict(rules or {})
            return obj

        return decorate

    def get(self, name: str) -> T:
        """The entry called ``name``; an unknown name raises ConfigError with a did-you-mean."""
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(unknown(self.kind, name, self._items)) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def rules(self, name: str) -> dict[str, Rule]:
        """The rules entry ``name`` declared for its parameters."""
        self.get(name)
        return self._rules.get(name, {})

    def check_params(self, name: str, params: dict[str, Any], *,
                     reserved: tuple[str, ...] = ()) -> dict[str, Any]:
        """``params`` checked: every key must be one the entry's signature accepts and every value
        must follow its rule (ints become floats for a float rule); ConfigError otherwise.

        ``reserved`` names are supplied by dflbench itself (e.g. ``class_counts``), never by users.
        """
        return check_entry_params(self.kind, name, params,
                                  self.accepted_params(name, reserved=reserved), self.rules(name))

    def accepted_params(self, name: str, *, reserved: tuple[str, ...] = ()) -> list[str]:
        """Keyword parameters a user may set for entry ``name``."""
        sig = inspect.signature(self.get(name))
        return [
            p.name
            for p in sig.parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name not in reserved
            and p.name != "self"
        ]

    def build(self, name: str, params: dict[str, Any], *, reserved: dict[str, Any] | None = None) -> Any:
        """Instantiate entry ``name`` with user ``params`` (checked) plus dflbench's ``reserved``."""
        reserved = reserved or {}
        params = self.check_params(name, params, reserved=tuple(reserved))
        factory: Any = self.get(name)
        accepted = set(inspect.signature(factory).parameters)
        extra = {k: v for k, v in reserved.items() if k in accepted}
        return factory(**params, **extra)


def check_entry_params(kind: str, name: str, params: dict[str, Any], accepted: list[str],
                       rules: Mapping[str, Rule]) -> dict[str, Any]:
    """``params`` of entry ``name`` checked against the ``accepted`` names and their ``rules``: the
    one check behind :meth:`Registry.check_params` and the torch-free check of suites against
    the plain-data catalog (:mod:`dflbench.catalog`), so both say the same thing."""
    for key in params:
        if key not in accepted:
            hint = did_you_mean(str(key), accepted)
            valid = ", ".join(sorted(accepted)) or "none"
            raise ConfigError(f"{kind} '{name}' has no parameter '{key}'{hint} (valid: {valid})")
    return {k: rules[k].check(v, f"{kind} '{name}': parameter '{k}'") if k in rules else v
            for k, v in params.items()}
