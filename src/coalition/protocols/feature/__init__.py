"""Pre-analysis and feature engineering (issue 19): federated statistics, so far.

``spec`` holds the parameters and message keys; ``statistics`` computes one party's per-column
aggregates under the minimum-count rule and exchanges them; ``tables`` is the report format the
console draws (``docs/feature_engineering.md``).
"""

from coalition.protocols.feature.spec import STATS_SUMMARY, StatisticsParams
from coalition.protocols.feature.statistics import (
    STAT_COLUMNS,
    column_statistics,
    guest_collect,
    host_share,
)
from coalition.protocols.feature.tables import Table, tables_report

__all__ = [
    "STATS_SUMMARY",
    "STAT_COLUMNS",
    "StatisticsParams",
    "Table",
    "column_statistics",
    "guest_collect",
    "host_share",
    "tables_report",
]
