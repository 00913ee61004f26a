"""Suite files → a validated, frozen :class:`Suite`: the dataclasses (:mod:`.suite`), the rules
and their checking (:mod:`.parse`), finding and reading the YAML (:mod:`.load`). docs/suite-file.md
describes every key."""

from dflbench.config.load import load_suite, resolve_suite_path, shipped_suites, suites_dir
from dflbench.config.parse import override, parse_suite
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

__all__ = [
    "DEFAULT_METRICS", "MONITORS", "OPTIMIZERS", "DatasetEntry", "EarlyStopping", "LossEntry",
    "ModelConfig", "Protocol", "Suite", "TrainConfig", "Tuning", "load_suite", "override", "parse_suite",
    "resolve_suite_path", "shipped_suites", "suites_dir",
]
