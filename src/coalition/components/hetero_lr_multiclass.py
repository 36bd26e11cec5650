"""``hetero_lr_multiclass``: vertical multiclass logistic regression (one-vs-rest).

Wraps :mod:`coalition.protocols.linear.multiclass`: ``K`` binary ``hetero_lr`` trainings with
the same parameters (``protocol: ss | he-arbiter | he-guest``), one per class. Who learns what
is the binary protocol's, ``K`` times, plus ``K`` itself; the class values stay in the guest's
part. ``predict`` scores it jointly (``score_<k>`` per class and ``predicted_label``);
``evaluate`` with ``task: multiclass`` reports accuracy and F1. ``label_dp_epsilon``: the guest
randomises its labels over its ``K`` classes before training (randomised response,
:mod:`coalition.protocols.label_dp`); metrics report ``label_dp_epsilon`` and ``label_dp_keep``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import Field

from coalition.components.artifacts import Artifact, Metrics, ModelPart
from coalition.components.base import TaskContext
from coalition.components.hetero_lr import HeteroLR, party_table
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.label_dp import keep_probability
from coalition.protocols.linear import LinearParams
from coalition.protocols.linear.multiclass import fit_ovr

__all__ = ["HeteroLRMulticlass", "MulticlassLRParams"]


class MulticlassLRParams(LinearParams):
    """:class:`~coalition.protocols.linear.LinearParams` for one-vs-rest classification."""

    task: Literal["logistic"] = Field("logistic", description="logistic (one-vs-rest) only")
    label_dp_epsilon: float | None = Field(None, gt=0.0, le=20.0, description=(
        "label DP: the guest randomises its labels over its K classes (randomised response) "
        "with this epsilon before training; None: off"))


@register
class HeteroLRMulticlass(HeteroLR):
    """Vertical multiclass logistic regression, one binary model per class."""

    name = "hetero_lr_multiclass"
    version = "1.0.0"
    description = "Vertical multiclass logistic regression (one-vs-rest over hetero_lr)."
    Params = MulticlassLRParams

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Train this party's role for every class."""
        p = ctx.params_as(MulticlassLRParams)
        epsilon = p.label_dp_epsilon
        table, classes = None, None
        if ctx.role is not Role.ARBITER:
            data = ctx.dataset("train_data")
            if ctx.role is Role.GUEST and epsilon is not None:
                classes = np.unique(data.labels())
            table = party_table(data, epsilon if classes is not None else None, classes)
        protocol = LinearParams.parse(p.model_dump(exclude={"label_dp_epsilon"}))
        part = fit_ovr(ctx.comm, protocol, table)
        if part is None:
            return {}
        out: dict[str, Artifact] = {"model": ModelPart(self.family(), ctx.role,
                                                       part.to_artifact())}
        if ctx.role is Role.GUEST:
            losses = [float(m.meta["loss"][-1]) for m in part.parts if m.meta.get("loss")]
            dp = {} if epsilon is None or classes is None else {
                "label_dp_epsilon": epsilon,
                "label_dp_keep": keep_probability(epsilon, len(classes))}
            out["metrics"] = Metrics({"classes": float(len(part.parts)),
                                      **({"mean_final_loss": sum(losses) / len(losses)}
                                         if losses else {}), **dp})
        return out
