"""``scorecard``: turn a vertical LR on WOE-encoded bins into a points table per bin.

Inputs per party: ``woe`` (its ``feature_woe`` model part) and ``lr`` (its ``hetero_lr`` model
part, trained on ``feature_woe``'s output). Each party computes the points of its own bins from
its own weights (:mod:`coalition.protocols.feature.scorecard`: Siddiqi 2006, ``score = offset -
factor · logit``); nothing is sent. The guest's table also holds the base points (from the
intercept). A host's points, like its bins and weights, stay on the host: its ``report`` is
its own table, and the guest never learns a host bin's interval or points.

The ``model`` part bundles the WOE transform, the LR part and the scaling, so ``predict`` and
online serving score raw rows with it unchanged: each party encodes its own rows, the hosts
send the usual linear partial scores (:mod:`coalition.protocols.linear.predict`), and the
guest turns the total logit into points (``score`` in serving; ``predict`` writes the
probability as ``score`` and the points as ``points``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.feature import ScorecardParams, Table, tables_report
from coalition.protocols.feature.scorecard import BASE_FEATURE, Scaling, bin_points
from coalition.protocols.linear import LinearModelPart

__all__ = ["POINTS_COLUMNS", "Scorecard", "scorecard_part"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
POINTS_COLUMNS = ("feature", "bin", "label", "points")
_LINEAR = frozenset({"hetero_lr"})


def scorecard_part(data: Mapping[str, Any]) -> tuple[dict[str, Any], LinearModelPart, Scaling]:
    """The WOE transform, LR part and scaling of a stored scorecard part (validated)."""
    try:
        columns = dict(data["columns"])
        linear = LinearModelPart.from_artifact(dict(data["linear"]))
        s = data["scaling"]
        scaling = Scaling(float(s["base_score"]), float(s["base_odds"]), float(s["pdo"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("corrupt scorecard model part") from exc
    return columns, linear, scaling


@register
class Scorecard(Component):
    """Points per bin from a vertical LR on ``feature_woe`` output (Siddiqi 2006)."""

    name = "scorecard"
    version = "1.0.0"
    description = ("Credit scorecard: base score, PDO and odds turn a vertical LR on WOE bins "
                   "into points per bin; the model part scores raw rows in predict and serving.")
    Params = ScorecardParams
    roles = _PARTIES
    required_roles = frozenset({Role.GUEST})
    inputs = slots(
        woe=Input(ArtifactKind.MODEL, _PARTIES, doc="feature_woe's model part"),
        lr=Input(ArtifactKind.MODEL, _PARTIES, doc="hetero_lr's model part (on WOE features)"),
    )
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="WOE transform + LR part + scaling"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="points table (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="points range of own features"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Compute this party's points table; bundle the parts for scoring."""
        p = ctx.params_as(ScorecardParams)
        woe, lr = ctx.model("woe"), ctx.model("lr")
        if woe.component != "feature_woe":
            raise InputError("woe must be feature_woe's model part", component=woe.component)
        if lr.component not in _LINEAR:
            raise InputError("lr must be a hetero_lr model part", component=lr.component)
        linear = LinearModelPart.from_artifact(lr.data)
        if linear.task != "logistic":
            raise InputError("a scorecard needs a logistic model", task=linear.task)
        scaling = Scaling(p.base_score, p.base_odds, p.pdo)
        rows = bin_points(woe.data["columns"], linear, scaling)
        per_feature: dict[str, list[float]] = {}
        for f, _, _, pts in rows:
            per_feature.setdefault(f, []).append(pts)
        base = sum(per_feature.pop(BASE_FEATURE, [0.0]))
        metrics = {"features": float(len(per_feature)),
                   "min_points": base + sum(min(v) for v in per_feature.values()),
                   "max_points": base + sum(max(v) for v in per_feature.values())}
        model = {"columns": woe.data["columns"], "linear": linear.to_artifact(),
                 "scaling": scaling.to_dict()}
        return {"model": ModelPart(self.family(), ctx.role, model),
                "report": Report(tables_report([Table("scorecard", str(ctx.party),
                                                      POINTS_COLUMNS, tuple(rows))])),
                "metrics": Metrics(metrics)}
