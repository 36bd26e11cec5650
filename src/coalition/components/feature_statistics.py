"""``feature_statistics``: per-party column statistics under the minimum-count rule (issue 19).

Every party summarises its own feature columns (``coalition.protocols.feature.statistics``:
count, missing rate, distinct count, mean, std, min/max, quantiles, skewness, kurtosis, top
values; nothing over fewer than ``min_count`` rows). A host whose own parameters set
``share_with_guest`` sends its aggregate table to the guest; no row ever leaves. The ``report``
holds the party's table (the guest's also every shared host table) in the
``coalition.tables/1`` format; ``metrics`` counts the columns.
"""

from __future__ import annotations

from collections.abc import Mapping

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.feature import (
    StatisticsParams,
    column_statistics,
    guest_collect,
    host_share,
    tables_report,
)

__all__ = ["FeatureStatistics"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})


@register
class FeatureStatistics(Component):
    """Per-party statistics of own columns; hosts may share the aggregates with the guest."""

    name = "feature_statistics"
    version = "1.0.0"
    description = ("Count, missing rate, mean, std, min/max, quantiles, skew, kurtosis, distinct "
                   "count and top values per column, computed where the data lives (k rule).")
    Params = StatisticsParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="the party's own table"))
    outputs = slots(
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="statistics tables (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="columns and suppressed columns"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Summarise the own columns; exchange aggregates between host and guest."""
        p = ctx.params_as(StatisticsParams)
        data = ctx.dataset("data")
        own = column_statistics(data.frame, data.features, p, str(ctx.party))
        tables = [own]
        if ctx.role is Role.HOST:
            host_share(ctx.comm, own, p)
        elif ctx.role is Role.GUEST and ctx.comm.hosts:
            tables.extend(guest_collect(ctx.comm))
        suppressed = sum(1 for r in own.records() if r["suppressed"])
        return {"report": Report(tables_report(tables)),
                "metrics": Metrics({"columns": float(len(own.rows)),
                                    "suppressed_columns": float(suppressed)})}
