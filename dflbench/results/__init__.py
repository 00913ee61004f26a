"""Results: the typed model of a run (:mod:`.model`), its JSON Schema and migrations
(:mod:`.schema`), and reading and writing result files (:mod:`.io`). docs/results.md describes the
file format."""

from dflbench.results.io import (
    default_path,
    dumps,
    dumps_data,
    environment,
    finite,
    load_result,
    utc_now,
    write_result,
)
from dflbench.results.model import (
    SCHEMA_VERSION,
    Calibration,
    ClassMetrics,
    ClassSummary,
    DatasetInfo,
    History,
    Learned,
    RunRecord,
    RunStatus,
    Stat,
    SuiteResult,
    SummaryRow,
    TrainInfo,
    Treatment,
    TuningRecord,
)
from dflbench.results.schema import MIGRATIONS, parse_result, schema

__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "Calibration", "ClassMetrics", "ClassSummary", "DatasetInfo",
    "History", "Learned", "RunRecord", "RunStatus", "Stat", "SuiteResult", "SummaryRow", "TrainInfo",
    "Treatment", "TuningRecord",
    "default_path", "dumps", "dumps_data", "environment", "finite", "load_result", "parse_result",
    "schema", "utc_now", "write_result",
]
