"""Suite files: YAML (safe loader only) → a validated, frozen :class:`Suite`.

Every problem is a ConfigError naming the file, the key path and what is valid (docs/design.md,
"Suite file"). Names of losses, dataset sources, models and metrics are checked against their
registries here; checks that need the data (e.g. a weight list's length) run when the datasets
are prepared, still before any training starts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dflbench.augment import Augment
from dflbench.errors import ConfigError, did_you_mean, unknown
from dflbench.registry import MODEL_RESERVED

DEFAULT_METRICS = ("macro_f1", "balanced_accuracy", "gmean", "mcc", "minority_recall", "ece")
# Declared here only (torch-free, for validating suites); the engine implements each name
# (dflbench/engine/optim.py, dflbench/engine/stopping.py) and its tests run every one.
OPTIMIZERS = ("adam", "adamw", "sgd")
MONITORS = ("macro_f1", "loss")


@dataclass(frozen=True)
class EarlyStopping:
    patience: int = 10
    validation: float = 0.2
    monitor: str = "macro_f1"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1.0e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    early_stopping: EarlyStopping | None = None
    augment: Augment = field(default_factory=Augment)


@dataclass(frozen=True)
class ModelConfig:
    name: str = "mlp"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    imbalance: dict[str, Any] | None = None


@dataclass(frozen=True)
class LossEntry:
    """One treatment: a loss with its parameters and an optional resampling of the training set
    (an imbalanced-learn sampler), shown under ``label`` in reports (default ``loss+sampler``)."""

    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    sampler: str | None = None
    sampler_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    seeds: tuple[int, ...]
    split_seed: int
    test_size: float
    model: ModelConfig
    train: TrainConfig
    datasets: tuple[DatasetEntry, ...]
    losses: tuple[LossEntry, ...]
    metrics: tuple[str, ...]
    source: str = "<dict>"

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration, as stored in result files."""
        es = self.train.early_stopping
        return {
            "name": self.name,
            "description": self.description,
            "seeds": list(self.seeds),
            "split_seed": self.split_seed,
            "test_size": self.test_size,
            "model": {"name": self.model.name, **self.model.params},
            "train": {
                "epochs": self.train.epochs,
                "batch_size": self.train.batch_size,
                "lr": self.train.lr,
                "weight_decay": self.train.weight_decay,
                "optimizer": self.train.optimizer,
                "early_stopping": None if es is None else {
                    "patience": es.patience, "validation": es.validation, "monitor": es.monitor
                },
                **({"augment": {"shift": self.train.augment.shift, "flip": self.train.augment.flip}}
                   if self.train.augment.active else {}),
            },
            "datasets": [
                {"name": d.name, "source": d.source, **d.params,
                 **({"imbalance": d.imbalance} if d.imbalance else {})}
                for d in self.datasets
            ],
            "losses": [
                {"name": lo.name, "label": lo.label, **lo.params,
                 **({"sampler": {"name": lo.sampler, **lo.sampler_params}} if lo.sampler else {})}
                for lo in self.losses
            ],
            "metrics": list(self.metrics),
        }

    def protocol(self) -> dict[str, Any]:
        """How the data is split for scoring, as result files record it (docs/results.md)."""
        return {"kind": "holdout", "test_size": self.test_size, "split_seed": self.split_seed,
                "repeats": 1}

    def sha256(self) -> str:
        """Hash of the resolved configuration (canonical JSON), for provenance and caching."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def suites_dir() -> Path:
    """Folder of the suites shipped with dflbench (inside the wheel, or the repo's ``suites/``)."""
    packaged = Path(str(resources.files("dflbench"))) / "suites"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "suites"


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


class _Reader:
    """Reads one mapping of the suite, tracking the key path for error messages."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: {where or 'suite'} must be a mapping, got {_kind(data)}")
        self.data = data
        self.where = where
        self.source = source
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.path(key)}: {message}")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = ..., *,
            check: Any = None, rule: str = "") -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise ConfigError(f"{self.source}: {self.path(key)}: required key is missing")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise self.fail(key, f"expected {_names(types)}, got {_kind(value)}")
        if float in (types if isinstance(types, tuple) else (types,)) and isinstance(value, int):
            value = float(value)
        if not isinstance(value, types):
            raise self.fail(key, f"expected {_names(types)}, got {_kind(value)}")
        if check is not None and not check(value):
            raise self.fail(key, f"{value!r} is invalid ({rule})")
        return value

    def choice(self, key: str, valid: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in valid:
            raise self.fail(key, unknown("value", value, valid))
        return value

    def rest(self, allowed: tuple[str, ...] = ()) -> dict[str, Any]:
        """Keys not read yet; they become free parameters (checked by a registry later)."""
        return {k: v for k, v in self.data.items() if k not in self.used and k not in allowed}

    def finish(self) -> None:
        """Reject any key not read."""
        for key in self.data:
            if key not in self.used:
                valid = sorted(self.used)
                raise ConfigError(
                    f"{self.source}: {self.path(str(key))}: unknown key{did_you_mean(str(key), valid)}"
                    f" (valid: {', '.join(valid)})"
                )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _names(types: type | tuple[type, ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "integer", float: "number", str: "string", list: "list", dict: "mapping",
             bool: "true/false", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _positive(v: float) -> bool:
    return v > 0


def parse_suite(data: Any, *, source: str = "<dict>") -> Suite:
    """Validate a suite mapping (as read from YAML) into a frozen Suite."""
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES, RESERVED
    from dflbench.metrics import METRICS
    from dflbench.models import MODELS

    if data is None:
        raise ConfigError(f"{source}: suite file is empty")
    top = _Reader(data, "", source)
    name = top.get("name", str, check=bool, rule="must not be empty")
    description = top.get("description", str, "")
    seeds_value = top.get("seeds", (int, list), 5)
    if isinstance(seeds_value, int):
        if seeds_value < 1:
            raise top.fail("seeds", f"{seeds_value} is invalid (an integer >= 1, or a list of seeds)")
        seeds = tuple(range(seeds_value))
    else:
        if not seeds_value or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds_value):
            raise top.fail("seeds", "a list of seeds must be non-empty integers")
        if len(set(seeds_value)) != len(seeds_value):
            raise top.fail("seeds", "seeds must be distinct")
        seeds = tuple(seeds_value)
    split_seed = top.get("split_seed", int, 0)
    test_size = top.get("test_size", float, 0.3, check=lambda v: 0 < v < 1, rule="between 0 and 1")

    model_raw = top.get("model", dict, {"name": "mlp"})
    mr = _Reader(model_raw, "model", source)
    model_name = mr.get("name", str, "mlp")
    if model_name not in MODELS:
        raise mr.fail("name", unknown("model", model_name, MODELS.names()))
    model_params = mr.rest()
    _check_params(MODELS, model_name, model_params, f"{source}: model", reserved=MODEL_RESERVED)
    model = ModelConfig(model_name, model_params)

    tr = _Reader(top.get("train", dict, {}), "train", source)
    es_raw = tr.get("early_stopping", (dict, type(None)), None)
    early = None
    if es_raw is not None:
        er = _Reader(es_raw, "train.early_stopping", source)
        early = EarlyStopping(
            patience=er.get("patience", int, 10, check=lambda v: v >= 1, rule="an integer >= 1"),
            validation=er.get("validation", float, 0.2, check=lambda v: 0 < v < 1, rule="between 0 and 1"),
            monitor=er.choice("monitor", MONITORS, "macro_f1"),
        )
        er.finish()
    augment = Augment()
    aug_raw = tr.get("augment", (dict, type(None)), None)
    if aug_raw is not None:
        ar = _Reader(aug_raw, "train.augment", source)
        augment = Augment(
            shift=ar.get("shift", int, 0, check=lambda v: 0 <= v <= 8, rule="an integer 0..8"),
            flip=ar.get("flip", bool, False),
        )
        ar.finish()
    train = TrainConfig(
        epochs=tr.get("epochs", int, 60, check=lambda v: v >= 1, rule="an integer >= 1"),
        batch_size=tr.get("batch_size", int, 256, check=lambda v: v >= 1, rule="an integer >= 1"),
        lr=tr.get("lr", float, 1.0e-3, check=_positive, rule="a number > 0"),
        weight_decay=tr.get("weight_decay", float, 0.0, check=lambda v: v >= 0, rule="a number >= 0"),
        optimizer=tr.choice("optimizer", OPTIMIZERS, "adam"),
        early_stopping=early,
        augment=augment,
    )
    tr.finish()

    datasets_raw = top.get("datasets", list, check=bool, rule="list at least one dataset")
    datasets = []
    for i, raw in enumerate(datasets_raw):
        if isinstance(raw, str):
            raise ConfigError(
                f"{source}: datasets[{i}]: give a mapping with name and source, e.g. "
                f"{{name: {raw}, source: sklearn}}"
            )
        dr = _Reader(raw, f"datasets[{i}]", source)
        dname = dr.get("name", str, check=bool, rule="must not be empty")
        dsource = dr.get("source", str)
        if dsource not in SOURCES:
            raise dr.fail("source", unknown("dataset source", dsource, SOURCES.names()))
        imbalance = dr.get("imbalance", (dict, type(None)), None)
        params = dr.rest()
        _check_params(SOURCES, dsource, params, f"{source}: datasets[{i}] ({dname})", reserved=("name",))
        datasets.append(DatasetEntry(dname, dsource, params, imbalance))
    _unique([d.name for d in datasets], "datasets", "name", source)

    losses_raw = top.get("losses", list, check=bool, rule="list at least one loss")
    losses = []
    for i, raw in enumerate(losses_raw):
        if isinstance(raw, str):
            raw = {"name": raw}
        lr_ = _Reader(raw, f"losses[{i}]", source)
        lname = lr_.get("name", str)
        if lname not in LOSSES:
            raise lr_.fail("name", unknown("loss", lname, LOSSES.names()))
        sampler, sampler_params = _sampler(lr_, f"losses[{i}].sampler", source)
        default_label = f"{lname}+{sampler}" if sampler else lname
        label = lr_.get("label", str, default_label, check=bool, rule="must not be empty")
        params = lr_.rest()
        _check_params(LOSSES, lname, params, f"{source}: losses[{i}] ({lname})", reserved=RESERVED)
        losses.append(LossEntry(lname, label, params, sampler, sampler_params))
    _unique([lo.label for lo in losses], "losses", "label", source,
            hint="; give repeated losses distinct 'label:' values")

    metrics = tuple(top.get("metrics", list, list(DEFAULT_METRICS)))
    for m in metrics:
        if m not in METRICS:
            raise ConfigError(f"{source}: metrics: {unknown('metric', str(m), METRICS)}")
    top.finish()
    return Suite(name, description, seeds, split_seed, test_size, model, train,
                 tuple(datasets), tuple(losses), metrics, source)


def _sampler(reader: _Reader, where: str, source: str) -> tuple[str | None, dict[str, Any]]:
    """A loss entry's optional ``sampler``: a name, or a mapping with ``name`` and parameters."""
    from dflbench.samplers import RESERVED, SAMPLERS

    raw = reader.get("sampler", (str, dict, type(None)), None)
    if raw is None:
        return None, {}
    if isinstance(raw, str):
        raw = {"name": raw}
    sr = _Reader(raw, where, source)
    name = sr.get("name", str)
    if name not in SAMPLERS:
        raise sr.fail("name", unknown("sampler", name, SAMPLERS.names()))
    params = sr.rest()
    _check_params(SAMPLERS, name, params, f"{source}: {where}", reserved=RESERVED)
    return name, params


def _check_params(registry: Any, name: str, params: dict[str, Any], where: str,
                  reserved: tuple[str, ...]) -> None:
    try:
        registry.check_params(name, params, reserved=reserved)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


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
             seeds: int | None = None, epochs: int | None = None) -> Suite:
    """The suite narrowed or changed by command-line options (each validated like the file)."""
    from dataclasses import replace

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
    return suite
