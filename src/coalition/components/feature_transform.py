"""``feature_transform``: cap, impute, encode and scale each party's own columns (issue 19).

Fitted on ``data`` (training rows), applied to ``data`` and, when wired, ``test_data``
(:mod:`coalition.protocols.feature.transform`). Local: nothing is sent. The model part
(``{"columns": fitted}``) is JSON and :func:`~coalition.protocols.feature.transform.
apply_transform` applies it unchanged to later tables. The ``report`` table ``transform``
lists per feature: kind, cap, fill, center, factor, categories.
"""

from __future__ import annotations

from collections.abc import Mapping

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.feature import Table, TransformParams, tables_report
from coalition.protocols.feature.transform import apply_transform, fit_transform

__all__ = ["TRANSFORM_COLUMNS", "FeatureTransform"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
TRANSFORM_COLUMNS = ("feature", "kind", "cap", "fill", "center", "factor", "categories")


@register
class FeatureTransform(Component):
    """Fit capping, imputation, encoding and scaling on train; apply to train and test."""

    name = "feature_transform"
    version = "1.0.0"
    description = ("Outlier capping, imputation (mean/median/mode/constant), label or one-hot "
                   "encoding (unseen categories handled) and min-max/standard scaling.")
    Params = TransformParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(
        data=Input(ArtifactKind.DATASET, _PARTIES, doc="training rows (the fit)"),
        test_data=Input(ArtifactKind.DATASET, _PARTIES, optional=True, doc="rows to transform"),
    )
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="transformed training rows"),
        test_output=Output(ArtifactKind.DATASET, _PARTIES, requires="test_data",
                           doc="transformed test_data"),
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="{columns: fitted transform}"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="transform table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="transformed features"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Fit on ``data``; transform ``data`` and ``test_data``."""
        p = ctx.params_as(TransformParams)
        data = ctx.dataset("data")
        fitted = fit_transform(data.frame, data.features, impute=p.impute,
                               fill_value=p.fill_value, encode=p.encode, scale=p.scale,
                               cap_quantiles=p.cap_quantiles)
        rows = tuple((f, s["kind"], s.get("cap"), s["fill"], s.get("center"), s.get("factor"),
                      s.get("categories")) for f, s in fitted.items())
        out: dict[str, Artifact] = {
            "data": data.with_frame(apply_transform(fitted, data.frame)),
            "model": ModelPart(self.family(), ctx.role, {"columns": fitted}),
            "report": Report(tables_report([Table("transform", str(ctx.party),
                                                  TRANSFORM_COLUMNS, rows)])),
            "metrics": Metrics({"features": float(len(fitted))}),
        }
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            out["test_output"] = test.with_frame(apply_transform(fitted, test.frame))
        return out
