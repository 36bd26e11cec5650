"""``homo_lr`` / ``homo_nn``: horizontal federated training (parties share the same columns).

Wraps :mod:`coalition.protocols.horizontal`: the job's arbiter aggregates, every guest and host
is a client training on its own rows (FedAvg and the other strategies, optional secure
aggregation, on by default). Who learns what is the protocol's: clients learn each round's
global model; the aggregator learns each client's validation metrics and row counts, and only
the sum of the updates (with ``secure_aggregation: false`` it would see each client's update;
the node's privacy policy refuses such jobs). Before training, each client tells the
aggregator its feature column names (the shared schema of horizontal FL, public by
construction), so the aggregator can build the model; mismatched columns fail fast.

With ``contribution_group_size`` set and ``validate_data`` given to the arbiter, the aggregator
measures each client's (group's) contribution — GTG-Shapley and leave-one-out on its own
validation rows (:mod:`coalition.protocols.horizontal.contribution`, which says what grouping
reveals under SecAgg) — and outputs them as the ``contributions`` report, which the arbiter's
node writes to the federation log (``coalition job contributions``).

Every party ends with the global model. A client given ``test_data`` also outputs
``predictions`` of it (ID, label if any, ``score``), scored locally. With ``dp`` set
(client-level DP-FedAvg, :mod:`coalition.protocols.horizontal.dp`), the aggregator's metrics
report the accountant's ``epsilon`` at ``delta`` after the last round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from coalition.components.artifacts import (
    Artifact,
    ArtifactKind,
    Dataset,
    Metrics,
    ModelPart,
    Report,
)
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.predict import predictions_frame
from coalition.components.registry import register
from coalition.core import MessageKey
from coalition.core.errors import CoalitionError, InputError, ProtocolError
from coalition.core.ids import Role
from coalition.core.params import ParamConflict
from coalition.protocols.horizontal import (
    GlobalModel,
    HorizontalJobParams,
    LocalData,
    run_aggregator,
    run_client,
)
from coalition.protocols.horizontal.models import MLP, LogisticRegression, NumpyModel
from coalition.protocols.horizontal.strategies import StrategyName, make_strategy

__all__ = ["SCHEMA", "HomoLR", "HomoLRParams", "HomoNN", "HomoNNParams", "clients_schema"]

SCHEMA = MessageKey("homo_schema", "client -> aggregator: feature column names")


def clients_schema(ctx: TaskContext) -> list[str]:
    """At the aggregator: the one feature schema every client announced (``SCHEMA``);
    :class:`InputError` when any two differ or a client has no columns."""
    schemas = ctx.comm.gather(ctx.comm.peers(), SCHEMA)
    if not schemas or not schemas[0] or any(s != schemas[0] for s in schemas):
        raise InputError("clients' feature columns differ (horizontal FL needs one schema)")
    return list(schemas[0])

_CLIENTS = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})


class HomoLRParams(HorizontalJobParams):
    """The protocol's :class:`~coalition.protocols.horizontal.HorizontalJobParams` (rounds,
    sampling, local training, SecAgg), the aggregation strategy, and the model's shape."""

    strategy: StrategyName = Field("fedavg", description="the aggregation strategy")
    strategy_options: dict[str, float] = Field(
        default_factory=dict, description="keyword arguments of the strategy (fedprox: mu, ...)")
    n_classes: int = Field(2, ge=2, description="classes of the labels 0..n_classes-1")
    l2: float = Field(0.0, ge=0.0, description="L2 regularisation of the local training")

    @model_validator(mode="after")
    def _strategy_takes_the_options(self) -> HomoLRParams:
        # built once here so a wrong option fails at validation, not when the aggregator starts
        try:
            make_strategy(self.strategy, **self.strategy_options)
        except (CoalitionError, ValueError) as exc:
            raise ParamConflict("not the keyword arguments of the chosen strategy",
                                "strategy_options", "strategy") from exc
        return self

    def model(self, n_features: int) -> NumpyModel:
        """A fresh logistic regression over ``n_features`` columns."""
        return LogisticRegression(n_features, self.n_classes, self.l2, self.seed)


class HomoNNParams(HomoLRParams):
    """:class:`HomoLRParams` plus the hidden layer sizes of the MLP."""

    hidden: list[int] = Field(default_factory=lambda: [16], min_length=1,
                              description="units of each hidden layer")

    def model(self, n_features: int) -> NumpyModel:
        """A fresh MLP over ``n_features`` columns."""
        return MLP(n_features, self.n_classes, list(self.hidden), self.l2, self.seed)


def _xy(data: Dataset) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    y = data.labels()
    if not np.all(y == np.round(y)) or y.min() < 0:
        raise InputError("horizontal classifiers need class indices 0..n_classes-1 as labels")
    return data.feature_matrix(), y.astype(np.int64)


class _Homo(Component):
    """Shared run logic; subclasses pick the parameter model, which builds the model."""

    Params: ClassVar[type[HomoLRParams]] = HomoLRParams
    roles = _ALL
    required_roles = frozenset({Role.ARBITER})
    inputs = slots(
        train_data=Input(ArtifactKind.DATASET, _CLIENTS, doc="the client's training rows"),
        validate_data=Input(ArtifactKind.DATASET, _ALL, optional=True,
                            doc="a client's validation rows (metrics per round); the "
                                "arbiter's: contribution measurement"),
        test_data=Input(ArtifactKind.DATASET, _CLIENTS, optional=True,
                           doc="rows to score with the final model"),
    )
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _ALL, doc="the global model"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.ARBITER}),
                          doc="final validation metrics, averaged over clients"),
        predictions=Output(ArtifactKind.DATASET, _CLIENTS, requires="test_data",
                              doc="scores of test_data"),
        contributions=Output(ArtifactKind.REPORT, frozenset({Role.ARBITER}),
                             requires="validate_data",
                             doc="each client's contribution (GTG-Shapley, leave-one-out)"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Aggregate (arbiter) or train locally (clients)."""
        roles: dict[Role, Callable[[TaskContext], dict[str, Artifact]]] = {
            Role.ARBITER: self._aggregate, Role.GUEST: self._client, Role.HOST: self._client}
        return roles[ctx.role](ctx)

    def _aggregate(self, ctx: TaskContext) -> dict[str, Artifact]:
        p = ctx.params_as(HomoLRParams)
        schema = clients_schema(ctx)
        model = p.model(len(schema))
        strategy = make_strategy(p.strategy, **p.strategy_options)
        validation = None
        if ctx.has("validate_data"):
            validation = _xy(ctx.dataset("validate_data"))
            if ctx.dataset("validate_data").features != schema:
                raise InputError("the arbiter's validation columns differ from the clients'")
        final = run_aggregator(ctx.comm.sub("fit"), model, strategy, p.protocol_params(),
                               validation=validation)
        metrics = dict(final.metrics)
        if p.dp is not None:  # the accountant's budget after the last round
            spent = [r.epsilon for r in final.history if r.epsilon is not None]
            metrics |= {"epsilon": spent[-1] if spent else 0.0, "delta": p.dp.delta}
        out: dict[str, Artifact] = {
            "model": ModelPart(self.family(), ctx.role, final.to_artifact()),
            "metrics": Metrics(metrics)}
        if validation is not None:
            out["contributions"] = Report(final.contributions or {"method": "none", "reason": (
                "contribution_group_size is not set")})
        return out

    def _client(self, ctx: TaskContext) -> dict[str, Artifact]:
        p = ctx.params_as(HomoLRParams)
        train = ctx.dataset("train_data")
        x, y = _xy(train)
        valid = ctx.dataset("validate_data") if ctx.has("validate_data") else None
        xv, yv = _xy(valid) if valid is not None else (None, None)
        if ctx.comm.arbiter is None:
            raise ProtocolError("horizontal training needs the arbiter as aggregator")
        ctx.comm.send(ctx.comm.arbiter, SCHEMA, train.features)
        result = run_client(ctx.comm.sub("fit"), p.model(x.shape[1]),
                            LocalData(x, y, xv, yv), p.protocol_params())
        out: dict[str, Artifact] = {
            "model": ModelPart(self.family(), ctx.role, result.model.to_artifact())}
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            out["predictions"] = predictions_frame(test, test.ids(),
                                                   _scores(result.model, test))
        return out


def _scores(model: GlobalModel, data: Dataset) -> np.ndarray[Any, Any]:
    probs = model.predict_proba(data.feature_matrix())
    return probs[:, 1] if probs.ndim == 2 and probs.shape[1] == 2 else probs


@register
class HomoLR(_Homo):
    """Horizontal logistic regression."""

    name = "homo_lr"
    version = "1.0.0"
    description = "Horizontal logistic regression (FedAvg and friends; optional SecAgg)."
    Params = HomoLRParams


@register
class HomoNN(_Homo):
    """Horizontal multi-layer perceptron."""

    name = "homo_nn"
    version = "1.0.0"
    description = "Horizontal MLP classifier (FedAvg and friends; optional SecAgg)."
    Params = HomoNNParams
