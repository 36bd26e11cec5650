"""``feature_correlation``: Pearson correlation between guest and host columns (issue 19).

The guest and every host standardise their own numeric columns; the arbiter deals a matrix
multiplication triple and the guest obtains ``r`` for every (guest column, host column) pair
(:mod:`coalition.protocols.feature.correlation`: Beaver triples over ``Z_{2^64}``; no raw or
standardised column crosses, the host and the arbiter learn nothing, the guest only the
correlations). Equal to ``numpy.corrcoef`` on the joined table to 1e-6. The guest's ``report``
holds table ``pearson`` (guest_feature, party, host_feature, r; ``null`` for a constant
column); metric ``max_abs_r``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.feature import CorrelationParams, Table, tables_report
from coalition.protocols.feature.correlation import (
    dealer_triples,
    guest_correlations,
    host_correlations,
)
from coalition.protocols.linear import PartyTable

__all__ = ["PEARSON_COLUMNS", "FeatureCorrelation"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})
PEARSON_COLUMNS = ("guest_feature", "party", "host_feature", "r")


def _matrix(data: Dataset, columns: tuple[str, ...]) -> tuple[list[str], Any]:
    names = list(columns) or data.features
    absent = [c for c in names if c not in data.frame.columns]
    if absent:
        raise InputError("columns to correlate are absent", columns=absent)
    try:
        return names, data.frame[names].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("cross-party Pearson needs numeric columns (encode text first)") from exc


@register
class FeatureCorrelation(Component):
    """Cross-party Pearson by secret sharing, the arbiter dealing triples."""

    name = "feature_correlation"
    version = "1.0.0"
    description = ("Pearson correlation between guest and host columns by secret sharing "
                   "(the arbiter deals Beaver triples); only the guest learns r.")
    Params = CorrelationParams
    roles = _ALL
    required_roles = _ALL
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows (after psi)"))
    outputs = slots(
        report=Output(ArtifactKind.REPORT, frozenset({Role.GUEST}),
                      doc="pearson table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST}), doc="max |r|"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Deal (arbiter), or standardise and multiply under shares (guest, hosts)."""
        p = ctx.params_as(CorrelationParams)
        if ctx.role is Role.ARBITER:
            dealer_triples(ctx.comm)
            return {}
        data = ctx.dataset("data")
        names, x = _matrix(data, p.columns)
        # every party sorts its aligned rows by (canonical) ID, as the LR does, so rows line up
        x = PartyTable.from_arrays(data.ids(), x, None, names).features
        if ctx.role is Role.HOST:
            host_correlations(ctx.comm, x, names)
            return {}
        rows: list[tuple[str, str, str, float | None]] = []
        for host, (theirs, r) in guest_correlations(ctx.comm, x).items():
            rows.extend((g, host, h, None if np.isnan(r[i, j]) else float(r[i, j]))
                        for i, g in enumerate(names) for j, h in enumerate(theirs))
        finite = [abs(v[3]) for v in rows if v[3] is not None]
        return {"report": Report(tables_report([Table("pearson", str(ctx.party),
                                                      PEARSON_COLUMNS, tuple(rows))])),
                "metrics": Metrics({"max_abs_r": max(finite, default=0.0)})}
