"""``feature_psi``: population stability index of each party's own columns (issue 19).

``expected`` (say the training window) against ``actual`` (a later window, or the test rows),
both the party's own tables (:mod:`coalition.protocols.feature.stability`). Local: nothing is
sent. ``report`` table ``psi``: feature, bins, psi; ``metrics``: ``max_psi``.
"""

from __future__ import annotations

from collections.abc import Mapping

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.feature import StabilityParams, Table, tables_report
from coalition.protocols.feature.stability import psi_table

__all__ = ["PSI_COLUMNS", "FeaturePsi"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
PSI_COLUMNS = ("feature", "bins", "psi")


@register
class FeaturePsi(Component):
    """Drift of own columns between two tables, as the population stability index."""

    name = "feature_psi"
    version = "1.0.0"
    description = "Population stability index of each own feature between two tables."
    Params = StabilityParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(
        expected=Input(ArtifactKind.DATASET, _PARTIES, doc="reference rows (bins fitted here)"),
        actual=Input(ArtifactKind.DATASET, _PARTIES, doc="rows compared with the reference"),
    )
    outputs = slots(
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="psi table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="max_psi"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Bin ``expected``, compare ``actual``'s shares."""
        p = ctx.params_as(StabilityParams)
        expected, actual = ctx.dataset("expected"), ctx.dataset("actual")
        rows = psi_table(expected.frame, actual.frame, expected.features, method=p.method,
                         bins=p.bins)
        return {"report": Report(tables_report([Table("psi", str(ctx.party), PSI_COLUMNS,
                                                      tuple(rows))])),
                "metrics": Metrics({"max_psi": max((r[2] for r in rows), default=0.0)})}
