"""``homo_gbdt``: horizontal histogram gradient boosting (parties share the same columns).

Wraps :mod:`coalition.protocols.horizontal.gbdt`: the job's arbiter aggregates, every guest and
host is a client. Bin edges are agreed by two secure sums of per-client counts, and per tree
level every client's gradient/hessian/count histograms are summed with SecAgg (always on), so
the aggregator never sees one client's histogram, row or label; it learns the sums over the
clients (row and positive counts, each feature's range and fine histogram, per node the
histograms) and the trees it builds from them. Before training, each client tells the
aggregator its feature column names (the shared schema, public by construction); mismatched
columns fail fast.

Every party ends with the whole model (edges, base score, trees). A client given ``test_data``
also outputs ``predictions`` of it (ID, label if any, ``score``), scored locally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.homo import SCHEMA, clients_schema
from coalition.components.predict import predictions_frame
from coalition.components.registry import register
from coalition.core.errors import InputError, ProtocolError
from coalition.core.ids import Role
from coalition.protocols.horizontal.gbdt import (
    GBDTJobParams,
    GBDTModel,
    run_gbdt_client,
    run_gbdt_server,
)

__all__ = ["HomoGBDT", "HomoGBDTParams"]

_CLIENTS = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})


class HomoGBDTParams(GBDTJobParams):
    """:class:`~coalition.protocols.horizontal.gbdt.GBDTJobParams`: boosting, binning, and the
    federation's crypto suite (SecAgg always on)."""


def _xy(data: Dataset) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    y = data.labels()
    if not np.isin(y, (0, 1)).all():
        raise InputError("homo_gbdt needs labels 0 and 1", column=data.label_column)
    return data.feature_matrix(), y.astype(np.int64)


@register
class HomoGBDT(Component):
    """Horizontal histogram GBDT (binary classification)."""

    name = "homo_gbdt"
    version = "1.0.0"
    description = ("Horizontal gradient-boosted trees: per-node histograms summed with SecAgg "
                   "(binary classification).")
    Params: ClassVar[type[HomoGBDTParams]] = HomoGBDTParams
    roles = _ALL
    required_roles = frozenset({Role.ARBITER})
    inputs = slots(
        train_data=Input(ArtifactKind.DATASET, _CLIENTS, doc="the client's training rows"),
        test_data=Input(ArtifactKind.DATASET, _CLIENTS, optional=True,
                        doc="rows to score with the final model"),
    )
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _ALL, doc="the trees (every party)"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.ARBITER}),
                       doc="trees grown and rows trained on (summed over clients)"),
        predictions=Output(ArtifactKind.DATASET, _CLIENTS, requires="test_data",
                           doc="scores of test_data"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Aggregate (arbiter) or take part as a client."""
        roles: dict[Role, Callable[[TaskContext], dict[str, Artifact]]] = {
            Role.ARBITER: self._aggregate, Role.GUEST: self._client, Role.HOST: self._client}
        return roles[ctx.role](ctx)

    def _aggregate(self, ctx: TaskContext) -> dict[str, Artifact]:
        p = ctx.params_as(HomoGBDTParams)
        schema = clients_schema(ctx)
        model = run_gbdt_server(ctx.comm.sub("fit"), len(schema), p.protocol_params())
        metrics = {"trees": float(len(model.trees)), **model.metrics}  # ε, δ with DP
        return {"model": ModelPart(self.family(), ctx.role, _part(model, schema)),
                "metrics": Metrics(metrics)}

    def _client(self, ctx: TaskContext) -> dict[str, Artifact]:
        p = ctx.params_as(HomoGBDTParams)
        train = ctx.dataset("train_data")
        x, y = _xy(train)
        if ctx.comm.arbiter is None:
            raise ProtocolError("horizontal training needs the arbiter as aggregator")
        ctx.comm.send(ctx.comm.arbiter, SCHEMA, train.features)
        model = run_gbdt_client(ctx.comm.sub("fit"), x, y, p.protocol_params())
        out: dict[str, Artifact] = {
            "model": ModelPart(self.family(), ctx.role, _part(model, train.features))}
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            out["predictions"] = predictions_frame(
                test, test.ids(), model.predict_proba(test.feature_matrix()))
        return out


def _part(model: GBDTModel, features: list[str]) -> dict[str, Any]:
    return {**model.to_artifact(), "feature_names": list(features)}
