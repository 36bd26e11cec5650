"""``feature_selection``: keep the features that pass each party's filters and the guest's IV
filter (issue 19; :mod:`coalition.protocols.feature.selection` says who learns what).

Inputs per party: ``data`` (training rows), optional ``test_data`` (cut to the same columns)
and, on the guest, the optional ``iv`` report of ``feature_binning`` and ``correlation``
report of ``feature_correlation`` (``cross_pearson_max``). Outputs: ``data`` (the
selected columns), ``test_output`` (when ``test_data`` is wired), ``model`` (``{"keep": [...]}``,
applied unchanged later by :func:`~coalition.protocols.feature.selection.select_columns`),
``report`` (``coalition.tables/1`` table ``selection``: feature, kept, reason, iv).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.feature import SelectionParams, Table, tables_report
from coalition.protocols.feature.selection import (
    cross_pearson_drops,
    guest_send_iv_drops,
    host_recv_iv_drops,
    local_filters,
    select_columns,
)

__all__ = ["SELECTION_COLUMNS", "FeatureSelection"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_GUEST = frozenset({Role.GUEST})
SELECTION_COLUMNS = ("feature", "kept", "reason", "iv")


def _pairs(ctx: TaskContext) -> list[list[Any]]:
    """``feature_correlation`` rows as (guest party, guest feature, host, host feature, r)."""
    if not ctx.has("correlation"):
        return []
    tables = [t for t in ctx.report("correlation").content.get("tables", [])
              if t.get("name") == "pearson"]
    if not tables:
        raise InputError("the correlation input holds no pearson table (wire "
                         "feature_correlation's report)")
    return [[t["party"], *r] for t in tables for r in t["rows"]]


def _iv_rows(ctx: TaskContext) -> list[list[Any]]:
    if not ctx.has("iv"):
        return []
    tables = [t for t in ctx.report("iv").content.get("tables", []) if t.get("name") == "iv"]
    if not tables:
        raise InputError("the iv input holds no iv table (wire feature_binning's report)")
    return [list(r) for t in tables for r in t["rows"]]


@register
class FeatureSelection(Component):
    """Filter features by IV, missing rate, variance, unique values, Pearson and by hand."""

    name = "feature_selection"
    version = "1.0.0"
    description = ("Select features by IV (guest decides for hosts), missing rate, variance, "
                   "unique values, local and cross-party Pearson correlation and manual lists.")
    Params = SelectionParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(
        data=Input(ArtifactKind.DATASET, _PARTIES, doc="training rows"),
        test_data=Input(ArtifactKind.DATASET, _PARTIES, optional=True, doc="rows to cut alike"),
        iv=Input(ArtifactKind.REPORT, _GUEST, optional=True, doc="feature_binning's report"),
        correlation=Input(ArtifactKind.REPORT, _GUEST, optional=True,
                          doc="feature_correlation's report (cross_pearson_max)"),
    )
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="selected columns of data"),
        test_output=Output(ArtifactKind.DATASET, _PARTIES, requires="test_data",
                           doc="selected columns of test_data"),
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="{keep: [feature, ...]}"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="selection table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="kept and dropped counts"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Run the local filters; exchange the IV decisions for host features."""
        p = ctx.params_as(SelectionParams)
        data = ctx.dataset("data")
        rows = _iv_rows(ctx) if ctx.role is Role.GUEST else []
        own = str(ctx.party)
        iv = {str(r[1]): float(r[3]) for r in rows if r[0] == own}
        iv_dropped: set[str] = set()
        cross: set[tuple[str, str]] = set()
        filters: dict[str, Any] = dict(
            iv=iv, manual_keep=set(p.manual_keep), manual_drop=set(p.manual_drop),
            missing_rate_max=p.missing_rate_max, unique_min=p.unique_min,
            variance_min=p.variance_min, iv_min=p.iv_min if ctx.role is Role.GUEST else None)
        if ctx.role is Role.GUEST and p.cross_pearson_max is not None:
            first = local_filters(data.frame, data.features, iv_dropped=set(),
                                  pearson_max=None, **filters)
            dropped = {(own, f) for f, why in first.items() if why != "kept"} | {
                (str(r[0]), str(r[1])) for r in rows
                if r[0] != own and p.iv_min is not None and r[3] < p.iv_min}
            cross = cross_pearson_drops(_pairs(ctx), {(str(r[0]), str(r[1])): float(r[3])
                                                      for r in rows},
                                        p.cross_pearson_max, dropped)
        cross_dropped = {f for party, f in cross if party == own}
        if ctx.role is Role.GUEST and ctx.comm.hosts:
            guest_send_iv_drops(ctx.comm, rows, p.iv_min, cross)
        elif ctx.role is Role.HOST:
            iv_dropped, cross_dropped = host_recv_iv_drops(ctx.comm, data.features)
        reasons = local_filters(data.frame, data.features, iv_dropped=iv_dropped,
                                cross_dropped=frozenset(cross_dropped),
                                pearson_max=p.pearson_max, **filters)
        model = {"keep": [f for f in data.features if reasons[f] == "kept"]}
        roles = [data.id_column] + ([data.label_column] if data.label_column else [])
        out: dict[str, Artifact] = {
            "data": data.with_frame(select_columns(model, data.frame, roles)),
            "model": ModelPart(self.family(), ctx.role, model),
            "report": Report(tables_report([Table(
                "selection", own, SELECTION_COLUMNS,
                tuple((f, reasons[f] == "kept", reasons[f], iv.get(f))
                      for f in data.features))])),
            "metrics": Metrics({"kept": float(len(model["keep"])),
                                "dropped": float(len(data.features) - len(model["keep"]))}),
        }
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            out["test_output"] = test.with_frame(select_columns(model, test.frame, [
                test.id_column] + ([test.label_column] if test.label_column else [])))
        return out
