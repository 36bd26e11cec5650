"""``feature_groupby``: per-group count, sum and mean of a host's numeric columns over the
guest's groups (联合统计分析), with minimum-count suppression.

The guest (group owner) sends encrypted packed group indicators; the host (value owner) clips its
values to ranges it declares itself and adds Laplace noise to every encrypted group sum; the
guest decrypts, and reports only groups of at least ``min_count`` rows
(:mod:`coalition.protocols.feature.groupby`: who learns what, the host's differential-privacy
guarantee, the limitation). The guest's ``report`` holds table ``groupby`` (group, rows,
party, column, sum, mean, noise_scale; suppressed groups keep their row only, marked
``suppressed``); metrics ``groups_reported`` and ``groups_suppressed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.alignment import check_alignment_guest, check_alignment_host
from coalition.protocols.feature import Table, tables_report
from coalition.protocols.feature.groupby import group_owner_sums, value_owner_sums
from coalition.protocols.feature.spec import GroupByParams
from coalition.protocols.linear import PartyTable

__all__ = ["GROUPBY_COLUMNS", "FeatureGroupBy", "group_labels"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
GROUPBY_COLUMNS = ("group", "rows", "party", "column", "sum", "mean", "noise_scale",
                   "suppressed")
MISSING = "(missing)"


def _sorted(data: Dataset) -> tuple[list[str], NDArray[np.int64]]:
    """Canonical IDs in sorted order and the row positions that sort them (as PartyTable)."""
    table = PartyTable.from_arrays(data.ids(), np.arange(len(data.frame))[:, None], None)
    return table.ids, table.features[:, 0].astype(np.int64)


def group_labels(column: pd.Series, edges: tuple[float, ...]) -> tuple[list[str], NDArray[np.int64]]:
    """The groups (bands in edge order, else sorted text values) and each row's group index: bands of ``edges`` for a
    numeric column (``<30``, ``30-40``, ..., ``>=60``), else the values as text."""
    if edges:
        try:
            x = column.astype(np.float64).to_numpy()
        except (TypeError, ValueError) as exc:
            raise InputError("group_edges need a numeric group column") from exc
        bands = [f"<{edges[0]:g}"] + [f"{a:g}-{b:g}" for a, b in pairwise(edges)]
        bands.append(f">={edges[-1]:g}")
        labels = np.array([MISSING if np.isnan(v) else bands[int(np.searchsorted(
            edges, v, side="right"))] for v in x], dtype=object)
    else:
        bands = []
        labels = np.array([MISSING if pd.isna(v) else str(v) for v in column], dtype=object)
    present = set(labels.tolist())
    order = [*bands, MISSING] if edges else sorted(present)
    groups = [g for g in order if g in present]
    index = {g: i for i, g in enumerate(groups)}
    return groups, np.array([index[v] for v in labels], dtype=np.int64)


def _guest(ctx: TaskContext, data: Dataset, p: GroupByParams) -> dict[str, Artifact]:
    if p.group_column not in data.frame.columns or p.group_column == data.id_column:
        raise InputError("the group column is absent", column=p.group_column)
    ids, order = _sorted(data)
    check_alignment_guest(ctx.comm.sub("align"), ids, p.suite)
    groups, codes = group_labels(data.frame[p.group_column].iloc[order].reset_index(drop=True),
                                 p.group_edges)
    rows: list[tuple[object, ...]] = []
    reported = suppressed = 0
    for host, res in group_owner_sums(ctx.comm, groups, codes, p).items():
        for k, group in enumerate(res.groups):
            count = int(res.counts[k])
            if count < p.min_count:
                suppressed += 1
                rows.append((group, None, host, None, None, None, None, True))
                continue
            reported += 1
            for j, column in enumerate(res.columns):
                lo, hi = res.ranges[column]
                total = float(res.sums[k, j])
                rows.append((group, count, host, column, total, total / count,
                             (hi - lo) / res.epsilon, False))
    return {"report": Report(tables_report([Table("groupby", str(ctx.party), GROUPBY_COLUMNS,
                                                  tuple(rows))])),
            "metrics": Metrics({"groups_reported": float(reported),
                                "groups_suppressed": float(suppressed)})}


def _host(ctx: TaskContext, data: Dataset, p: GroupByParams) -> dict[str, Artifact]:
    names = list(p.value_columns) or data.features
    absent = [c for c in names if c not in data.frame.columns]
    if absent:
        raise InputError("value columns are absent", columns=absent)
    ids, order = _sorted(data)
    check_alignment_host(ctx.comm.sub("align"), ids, p.suite)
    try:
        values = data.frame[names].to_numpy(dtype=np.float64)[order]
    except (TypeError, ValueError) as exc:
        raise InputError("group-by values must be numeric columns") from exc
    value_owner_sums(ctx.comm, values, names, p)
    return {}


@register
class FeatureGroupBy(Component):
    """Group-by aggregates with host-side noise and guest-side minimum-count suppression."""

    name = "feature_groupby"
    version = "1.0.0"
    description = ("Per-group count, sum and mean of host columns over the guest's groups: "
                   "encrypted indicators, host-clipped Laplace-noised sums, k-suppression.")
    Params = GroupByParams
    roles = _PARTIES
    required_roles = _PARTIES
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows (after psi)"))
    outputs = slots(
        report=Output(ArtifactKind.REPORT, frozenset({Role.GUEST}),
                      doc="groupby table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST}),
                       doc="groups reported and suppressed"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Send encrypted indicators and report (guest), or sum with noise (host)."""
        p = ctx.params_as(GroupByParams)
        data = ctx.dataset("data")
        return (_guest if ctx.role is Role.GUEST else _host)(ctx, data, p)
