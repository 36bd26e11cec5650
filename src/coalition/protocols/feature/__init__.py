"""Pre-analysis and feature engineering (issue 19): federated statistics, binning, WOE/IV.

``spec`` holds the parameters and message keys; ``statistics`` computes one party's per-column
aggregates under the minimum-count rule and exchanges them; ``binning`` fits and applies bins; ``woe`` computes WOE/IV and runs the
encrypted hetero exchange; ``tables`` is the report format the
console draws (``docs/feature_engineering.md``).
"""

from coalition.protocols.feature.spec import (
    STATS_SUMMARY,
    BinningParams,
    CorrelationParams,
    ScorecardParams,
    SelectionParams,
    StabilityParams,
    StatisticsParams,
    TransformParams,
    WoeParams,
)
from coalition.protocols.feature.statistics import (
    STAT_COLUMNS,
    column_statistics,
    guest_collect,
    host_share,
)
from coalition.protocols.feature.tables import Table, tables_report

__all__ = [
    "STATS_SUMMARY",
    "BinningParams",
    "CorrelationParams",
    "ScorecardParams",
    "SelectionParams",
    "StabilityParams",
    "STAT_COLUMNS",
    "StatisticsParams",
    "Table",
    "column_statistics",
    "guest_collect",
    "host_share",
    "tables_report",
    "TransformParams",
    "WoeParams",
]
