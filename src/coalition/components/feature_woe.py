"""``feature_woe``: replace each binned feature by its WOE (guest) or bin indicators (host).

Inputs per party: ``bins`` (its own ``feature_binning`` model part: fitted bins and, on the
guest, the WOE of its own bins), ``data`` (training rows; features absent from the bins pass
through unchanged, features dropped upstream are left out) and optional ``test_data``.
Local: nothing is sent (:mod:`coalition.protocols.feature.woe_transform` says why a host's
features become bin indicators and not WOE, and who learns what). Outputs: ``data``,
``test_output``, ``model`` (``{"columns": fitted}``; :func:`~coalition.protocols.feature.
woe_transform.apply_woe_transform` applies it unchanged later, and ``scorecard`` bundles it for
prediction and serving) and ``report`` (table ``woe``: feature, bin, label, encoding, value —
the WOE or the indicator column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.feature import Table, WoeParams, tables_report
from coalition.protocols.feature.binning import apply_bins, bin_labels, n_bins
from coalition.protocols.feature.woe_transform import (
    apply_woe_transform,
    fit_woe_transform,
    onehot_name,
)

__all__ = ["WOE_COLUMNS", "FeatureWoe"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
WOE_COLUMNS = ("feature", "bin", "label", "encoding", "value")


def _report_rows(fitted: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for f, spec in fitted.items():
        keep = set(spec.get("keep", []))
        for k, label in enumerate(bin_labels(spec["bins"])):
            value = (spec["woe"][k] if spec["encoding"] == "woe"
                     else onehot_name(f, k) if k in keep else None)
            rows.append((f, k, label, spec["encoding"], value))
    return rows


@register
class FeatureWoe(Component):
    """The WOE transform, fitted on ``data`` from ``feature_binning``'s model part."""

    name = "feature_woe"
    version = "1.0.0"
    description = ("WOE transform: guest features become their bin's WOE, host features bin "
                   "indicators (no label-derived value reaches a host); a model part for "
                   "prediction and serving.")
    Params = WoeParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(
        bins=Input(ArtifactKind.MODEL, _PARTIES, doc="feature_binning's model part"),
        data=Input(ArtifactKind.DATASET, _PARTIES, doc="training rows"),
        test_data=Input(ArtifactKind.DATASET, _PARTIES, optional=True, doc="rows to encode"),
    )
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="encoded training rows"),
        test_output=Output(ArtifactKind.DATASET, _PARTIES, requires="test_data",
                           doc="encoded test_data"),
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="{columns: fitted WOE transform}"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="woe table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="encoded features and columns"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Fit on ``data`` (which bins held rows); encode ``data`` and ``test_data``."""
        p = ctx.params_as(WoeParams)
        part, data = ctx.model("bins"), ctx.dataset("data")
        if part.component != "feature_binning" or not isinstance(part.data.get("bins"), dict):
            raise InputError("bins must be feature_binning's model part",
                             component=part.component)
        bins: dict[str, Any] = part.data["bins"]
        features = [f for f in data.features if f in bins]
        codes = apply_bins({f: bins[f] for f in features}, data.frame)
        counts = {f: np.bincount(codes[f], minlength=n_bins(bins[f])) for f in features}
        own_woe = part.data.get("woe", {}) if ctx.role is Role.GUEST else {}
        fitted = fit_woe_transform(bins, own_woe, counts, features, p.encoding)
        encoded = data.with_frame(apply_woe_transform(fitted, data.frame))
        out: dict[str, Artifact] = {
            "data": encoded,
            "model": ModelPart(self.family(), ctx.role, {"columns": fitted}),
            "report": Report(tables_report([Table("woe", str(ctx.party), WOE_COLUMNS,
                                                  tuple(_report_rows(fitted)))])),
            "metrics": Metrics({"features": float(len(fitted)),
                                "columns": float(len(encoded.features))}),
        }
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            out["test_output"] = test.with_frame(apply_woe_transform(fitted, test.frame))
        return out
