"""Validating a suite mapping (as read from YAML) into a frozen :class:`Suite`.

Every key's rule is declared once, in the tables below (:class:`dflbench.params.Rule`), and every
problem is one ConfigError naming the file, the key path, the value and what is valid, with a
did-you-mean where a name is close. Names of losses, dataset sources, models, samplers and metrics,
and their parameters, are checked against the plain-data catalog of the registries
(:mod:`dflbench.catalog`: the same names, parameters and rules), so a suite error appears before
torch or scikit-learn is imported; the registries check again when entries are built. Relative
paths resolve against the suite file's folder. Checks that need the data (a weight list's length,
class counts) run when the datasets are prepared, still before any training starts.
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from dflbench.augment import Augment
from dflbench.config import plugins as plugin_kinds
from dflbench.config.suite import (
    DEFAULT_METRICS,
    MONITORS,
    OPTIMIZERS,
    DatasetEntry,
    EarlyStopping,
    LossEntry,
    ModelConfig,
    Protocol,
    Suite,
    TrainConfig,
    Tuning,
)
from dflbench.errors import ConfigError, did_you_mean, unknown
from dflbench.params import FRACTION, POSITIVE_INT, Rule, choices, short
from dflbench.plugins import is_spec
from dflbench.registry import LOSS_TRAINER_OWNED

NAME = Rule(str, min_len=1)
TOP_RULES = {"name": NAME, "description": Rule(str), "split_seed": Rule(int, ge=0),
             "test_size": FRACTION, "datasets": Rule(list, min_len=1),
             "losses": Rule(list, min_len=1)}
SEED_RULES = {int: POSITIVE_INT, list: Rule(list, items=Rule(int, ge=0), min_len=1)}
TRAIN_RULES = {"epochs": POSITIVE_INT, "batch_size": POSITIVE_INT, "lr": Rule(float, gt=0),
               "weight_decay": Rule(float, ge=0), "optimizer": choices(OPTIMIZERS),
               "early_stopping": Rule(dict, nullable=True), "augment": Rule(dict, nullable=True)}
EARLY_STOPPING_RULES = {"patience": POSITIVE_INT, "validation": FRACTION,
                        "monitor": choices(MONITORS)}
AUGMENT_RULES = {"shift": Rule(int, ge=0, le=8), "flip": Rule(bool)}
PROTOCOL_RULES = {"kind": choices(("holdout", "cv")), "folds": Rule(int, ge=2),
                  "repeats": POSITIVE_INT, "test_size": FRACTION}
TUNING_RULES = {"validation": FRACTION, "budget": Rule(int, ge=1, nullable=True)}
GRID = Rule(list, min_len=1)


class _Reader:
    """Reads one mapping of the suite, tracking the key path for error messages."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: {where or 'suite'} must be a mapping, got {_kind(data)}")
        self.data, self.where, self.source = data, where, source
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.path(key)}: {message}")

    def take(self, key: str, rule: Rule, default: Any = ...) -> Any:
        """The value of ``key`` checked against ``rule``; ``default`` when absent (required when
        no default is given)."""
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "required key is missing")
            return default
        return rule.check(self.data[key], f"{self.source}: {self.path(key)}")

    def name(self, key: str, registry: Any, kind: str, default: Any = ...) -> str:
        """A name that must be registered in ``registry`` (required without a default)."""
        value = self.take(key, NAME, default)
        if value not in registry:
            raise self.fail(key, unknown(kind, value, registry.names()))
        return value

    def rest(self) -> dict[str, Any]:
        """Keys not read yet; they become an entry's parameters (checked by its registry)."""
        return {k: v for k, v in self.data.items() if k not in self.used}

    def finish(self) -> None:
        """Reject any key not read."""
        for key in self.data:
            if key not in self.used:
                valid = sorted(self.used)
                raise self.fail(str(key), f"unknown key{did_you_mean(str(key), valid)} "
                                          f"(valid: {', '.join(valid)})")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _checked(kind: str, name: str, params: dict[str, Any], where: str,
             reserved: tuple[str, ...] = ()) -> dict[str, Any]:
    """An entry's parameters checked against the catalog's ``kind`` (its names, parameters and
    rules), the error prefixed with ``where``."""
    try:
        return plugin_kinds.kind(kind).check_params(name, params, reserved=reserved)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_suite(data: Any, *, source: str = "<dict>", base: str | Path | None = None) -> Suite:
    """Validate a suite mapping (as read from YAML) into a frozen Suite; relative paths in it
    resolve against ``base`` (the suite file's folder; the current folder by default)."""
    folder = Path(os.path.abspath(base if base is not None else os.curdir))
    if data is None:
        raise ConfigError(f"{source}: suite file is empty")
    top = _Reader(data, "", source)
    name = top.take("name", NAME)
    description = top.take("description", TOP_RULES["description"], "")
    seeds = _seeds(top)
    split_seed = top.take("split_seed", TOP_RULES["split_seed"], 0)
    test_size = top.take("test_size", TOP_RULES["test_size"], 0.3)
    plugins = plugin_kinds.load(top.take("plugins", Rule(list, items=NAME), []), folder)
    protocol, test_size = _protocol(top.take("protocol", Rule(dict, nullable=True), None),
                                    test_size, "test_size" in data, source)
    tuning = _tuning(top.take("tuning", Rule(dict, nullable=True), None), source)
    model = _model(top.take("model", Rule(dict), {"name": "mlp"}), source, folder)
    train = _train(top.take("train", Rule(dict), {}), source)
    datasets = tuple(_dataset(raw, i, source, folder)
                     for i, raw in enumerate(top.take("datasets", TOP_RULES["datasets"])))
    _unique([d.name for d in datasets], "datasets", "name", source)
    losses = tuple(_loss(raw, i, source, folder)
                   for i, raw in enumerate(top.take("losses", TOP_RULES["losses"])))
    _unique([lo.label for lo in losses], "losses", "label", source,
            hint="; give repeated losses distinct 'label:' values")
    metrics = tuple(top.take("metrics", _metrics_rule(), list(DEFAULT_METRICS)))
    top.finish()
    if tuning is None and any(lo.tune for lo in losses):
        tuning = Tuning()
    return Suite(name, description, seeds, split_seed, test_size, model, train, datasets, losses,
                 metrics, source, protocol, tuning, plugins)


def _protocol(raw: dict[str, Any] | None, test_size: float, top_level_test_size: bool,
              source: str) -> tuple[Protocol, float]:
    """``protocol``: holdout (``test_size``, ``repeats``) or cv (``folds``, ``repeats``); a
    suite without it is one holdout split with the top-level ``test_size``."""
    if raw is None:
        return Protocol(), test_size
    reader = _Reader(raw, "protocol", source)
    kind = reader.take("kind", PROTOCOL_RULES["kind"])
    repeats = reader.take("repeats", PROTOCOL_RULES["repeats"], 1)
    if kind == "cv":
        folds = reader.take("folds", PROTOCOL_RULES["folds"], 5)
        reader.finish()
        return Protocol("cv", folds, repeats), test_size
    if top_level_test_size and "test_size" in raw:
        raise reader.fail("test_size", "give test_size once: here or at the top level")
    test_size = reader.take("test_size", PROTOCOL_RULES["test_size"], test_size)
    reader.finish()
    return Protocol("holdout", None, repeats), test_size


def _tuning(raw: dict[str, Any] | None, source: str) -> Tuning | None:
    if raw is None:
        return None
    reader = _Reader(raw, "tuning", source)
    validation = reader.take("validation", TUNING_RULES["validation"], 0.25)
    metric = reader.take("metric", _metric_rule(), "macro_f1")
    budget = reader.take("budget", TUNING_RULES["budget"], None)
    reader.finish()
    return Tuning(validation, metric, budget)


def _metric_rule() -> Rule:
    """One metric name (dflbench.metrics imports numpy only)."""
    from dflbench.metrics import METRICS

    return choices(list(METRICS))


def _metrics_rule() -> Rule:
    return Rule(list, items=_metric_rule(), min_len=1)


def _seeds(top: _Reader) -> tuple[int, ...]:
    """``seeds``: a count N (seeds 0..N-1) or a list of distinct seeds."""
    raw = top.data.get("seeds", 5)
    rule = SEED_RULES[list] if isinstance(raw, list) else SEED_RULES[int]
    value = top.take("seeds", rule, 5)
    if isinstance(value, int):
        return tuple(range(value))
    if len(set(value)) != len(value):
        raise top.fail("seeds", "seeds must be distinct")
    return tuple(value)


def _model(raw: dict[str, Any], source: str, folder: Path) -> ModelConfig:
    reader = _Reader(raw, "model", source)
    name = _plugin_name(reader, "models", folder) or reader.name(
        "name", plugin_kinds.kind("models"), "model", "mlp")
    return ModelConfig(name, _checked("models", name, reader.rest(), f"{source}: model"))


def _section(raw: Any, where: str, source: str, rules: dict[str, Rule], cls: type) -> dict[str, Any]:
    """A mapping whose every key has a rule; an absent key takes the default of ``cls``'s field
    of that name (None for a nested section)."""
    defaults = {f.name: f.default for f in fields(cls)}
    reader = _Reader(raw, where, source)
    values = {key: reader.take(key, rule, None if rule.kind is dict else defaults[key])
              for key, rule in rules.items()}
    reader.finish()
    return values


def _train(raw: dict[str, Any], source: str) -> TrainConfig:
    values = _section(raw, "train", source, TRAIN_RULES, TrainConfig)
    es, aug = values.pop("early_stopping"), values.pop("augment")
    early = None if es is None else EarlyStopping(
        **_section(es, "train.early_stopping", source, EARLY_STOPPING_RULES, EarlyStopping))
    augment = Augment() if aug is None else Augment(
        **_section(aug, "train.augment", source, AUGMENT_RULES, Augment))
    return TrainConfig(**values, early_stopping=early, augment=augment)


def _dataset(raw: Any, i: int, source: str, folder: Path) -> DatasetEntry:
    from dflbench.imbalance import check_imbalance

    if isinstance(raw, str):
        raise ConfigError(f"{source}: datasets[{i}]: give a mapping with name and source, e.g. "
                          f"{{name: {raw}, source: sklearn}}")
    reader = _Reader(raw, f"datasets[{i}]", source)
    name = reader.take("name", NAME)
    kind = reader.name("source", plugin_kinds.kind("datasets"), "dataset source")
    imbalance = reader.take("imbalance", Rule(dict, nullable=True), None)
    where = f"{source}: datasets[{i}] ({name})"
    if imbalance is not None:
        try:
            check_imbalance(imbalance)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    params = _checked("datasets", kind, reader.rest(), where, ("name",))
    params = resolve_paths(params, plugin_kinds.kind("datasets").rules(kind), folder, where)
    return DatasetEntry(name, kind, params, imbalance)


def resolve_paths(params: dict[str, Any], rules: dict[str, Rule], folder: Path,
                  where: str) -> dict[str, Any]:
    """``params`` with every path (a parameter whose rule has ``path``) made absolute: ``~``
    expanded, a relative path resolved against ``folder`` (the suite file's) or against the
    parameter its rule names as ``base``. A file or folder that must exist and does not is a
    ConfigError naming the path as written and as resolved."""
    out = dict(params)
    ordered = sorted((k for k in params if k in rules and rules[k].path), key=lambda k: bool(rules[k].base))
    for key in ordered:
        rule, value = rules[key], params[key]
        if value is None:
            continue
        anchor, against = folder, "the suite's folder"
        if rule.base is not None and out.get(rule.base) is not None:
            anchor, against = Path(out[rule.base]), rule.base
        written = Path(os.path.expanduser(str(value)))
        resolved = Path(os.path.abspath(anchor / written))
        out[key] = str(resolved)
        _check_exists(resolved, rule.path, f"{where}: {key}: {short(str(value), 160)}",
                      "" if str(resolved) == str(value) else
                      f" (resolved against {against}: {resolved})" if not written.is_absolute()
                      else f" ({resolved})")
    return out


def _check_exists(path: Path, kind: str | None, what: str, resolved: str) -> None:
    """Refuse a missing file or folder, or one of the other kind, before anything is loaded."""
    if kind == "cache":
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{what} is a file{resolved}; give a folder")
        return
    if not path.exists():
        raise ConfigError(f"{what} not found{resolved}")
    if kind == "file" and path.is_dir():
        raise ConfigError(f"{what} is a folder{resolved}; give a file")
    if kind == "folder" and not path.is_dir():
        raise ConfigError(f"{what} is a file{resolved}; give a folder")


def _plugin_name(reader: _Reader, kind: str, folder: Path) -> str | None:
    """A ``FILE.py:Class`` name, registered (its file relative to the suite's folder) under its
    absolute spec; None for a registered name."""
    raw = reader.data.get("name")
    if not (isinstance(raw, str) and is_spec(raw)):
        return None
    reader.used.add("name")
    try:
        return plugin_kinds.register(kind, raw, folder)
    except ConfigError as exc:
        raise reader.fail("name", str(exc)) from None


def _loss(raw: Any, i: int, source: str, folder: Path) -> LossEntry:
    reader = _Reader({"name": raw} if isinstance(raw, str) else raw, f"losses[{i}]", source)
    name = _plugin_name(reader, "losses", folder) or reader.name(
        "name", plugin_kinds.kind("losses"), "loss")
    sampler, sampler_params = _sampler(reader, f"losses[{i}].sampler", source)
    shown = name.rpartition(":")[2] if is_spec(name) else name  # a plugin: its class name
    label = reader.take("label", NAME, f"{shown}+{sampler}" if sampler else shown)
    tune = reader.take("tune", Rule(dict, nullable=True), None) or {}
    params = reader.rest()
    for key, why in LOSS_TRAINER_OWNED.items():
        if key in params:
            raise reader.fail(key, f"a suite cannot set {key}: {why} (docs/losses.md)")
    _checked("losses", name, params, f"{source}: losses[{i}] ({name})")
    entry = LossEntry(name, label, params, sampler, sampler_params,
                      {k: tuple(GRID.check(v, f"{source}: losses[{i}].tune.{k}")) for k, v in tune.items()})
    _check_grid(entry, f"{source}: losses[{i}].tune")
    return entry


def _check_grid(entry: LossEntry, where: str) -> None:
    """Every value of a tuning grid is checked as the parameter it sets, before training."""
    for key, values in entry.tune.items():
        sampler_key = key.removeprefix("sampler.") if key.startswith("sampler.") else None
        if sampler_key is not None and entry.sampler is None:
            raise ConfigError(f"{where}.{key}: this treatment has no sampler to tune")
        for value in values:
            if sampler_key is None:
                _checked("losses", entry.name, {**entry.params, key: value}, f"{where}.{key}")
            else:
                _checked("samplers", entry.sampler, {**entry.sampler_params, sampler_key: value},
                         f"{where}.{key}")


def _sampler(reader: _Reader, where: str, source: str) -> tuple[str | None, dict[str, Any]]:
    """A loss entry's optional ``sampler``: a name, or a mapping with ``name`` and parameters."""
    reader.used.add("sampler")
    raw = reader.data.get("sampler")
    if raw is None:
        return None, {}
    sr = _Reader({"name": raw} if isinstance(raw, str) else raw, where, source)
    name = sr.name("name", plugin_kinds.kind("samplers"), "sampler")
    return name, _checked("samplers", name, sr.rest(), f"{source}: {where}")


def _unique(values: list[str], section: str, key: str, source: str, hint: str = "") -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ConfigError(f"{source}: {section}: {key} '{v}' appears twice{hint}")
        seen.add(v)


def _narrow(items: tuple[Any, ...], key: str, wanted: list[str], option: str,
            kind: str) -> tuple[Any, ...]:
    """The entries of ``items`` whose ``key`` is in ``wanted``; an unknown name is an error."""
    names = [getattr(item, key) for item in items]
    for name in wanted:
        if name not in names:
            raise ConfigError(f"{option}: {unknown(f'{kind} in this suite', name, names)}")
    return tuple(item for item in items if getattr(item, key) in wanted)


def override(suite: Suite, *, losses: list[str] | None = None, datasets: list[str] | None = None,
             seeds: int | None = None, epochs: int | None = None, folds: int | None = None,
             repeats: int | None = None) -> Suite:
    """The suite narrowed or changed by command-line options (each validated like the file);
    ``folds`` makes the protocol cross-validation."""
    if losses is not None:
        suite = replace(suite, losses=_narrow(suite.losses, "label", losses, "--losses", "loss"))
    if datasets is not None:
        suite = replace(suite, datasets=_narrow(suite.datasets, "name", datasets, "--datasets",
                                                "dataset"))
    if not suite.losses or not suite.datasets:
        raise ConfigError("--losses/--datasets: nothing left to run")
    if seeds is not None:
        suite = replace(suite, seeds=tuple(range(seeds)))
    if epochs is not None:
        suite = replace(suite, train=replace(suite.train, epochs=epochs))
    if folds is not None:
        suite = replace(suite, protocol=Protocol("cv", folds, suite.protocol.repeats))
    if repeats is not None:
        suite = replace(suite, protocol=replace(suite.protocol, repeats=repeats))
    return suite
