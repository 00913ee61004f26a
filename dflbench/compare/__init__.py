"""Compare result files: align runs, compute deltas against a baseline, decide regressions.

:mod:`.model` holds the comparison as data (and the ``--max-drop``/``--metric``/``--alpha``
rules), :mod:`.deltas` one metric's delta, test and gate, :mod:`.compute` the alignment,
:mod:`.across` each candidate's change across datasets.
"""

from dflbench.compare.compute import compare_results, require_aligned
from dflbench.compare.model import (
    DEFAULT_ALPHA,
    DEFAULT_METRICS,
    N_MOVERS,
    AcrossDatasets,
    Allowance,
    ClassDelta,
    Comparison,
    FileInfo,
    MetricDelta,
    PairComparison,
    Stat,
    Unaligned,
    check_alpha,
    check_metrics,
    parse_allowance,
)

__all__ = [
    "DEFAULT_ALPHA", "DEFAULT_METRICS", "N_MOVERS", "AcrossDatasets", "Allowance", "ClassDelta", "Comparison",
    "FileInfo", "MetricDelta", "PairComparison", "Stat", "Unaligned", "check_alpha",
    "check_metrics", "compare_results", "parse_allowance", "require_aligned",
]
