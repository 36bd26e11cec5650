"""``hetero_lr`` / ``hetero_linr``: vertical logistic and linear regression.

Wraps :mod:`coalition.protocols.linear`: ``protocol`` selects secret sharing (``ss``, the
arbiter as Beaver-triple dealer when the job has one, else the guest), or Paillier with the key
at the arbiter (``he-arbiter``) or at the guest (``he-guest``). Who learns what is the
protocol's (``docs/linear.md``): each party ends with only its own weights (the guest also the
intercept); the guest learns the training loss; nobody sees another party's features or the
guest's labels. Rows must be aligned (run ``psi`` first); each party sorts its rows by ID.

``label_dp_epsilon`` (logistic only): the guest applies randomised response to its labels
before training (:mod:`coalition.protocols.label_dp`), so the job is ε-label-DP; the guest's
metrics report ``label_dp_epsilon`` and ``label_dp_keep`` (the probability a label is kept).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.core.params import ParamConflict
from coalition.protocols.label_dp import keep_probability, randomised_response
from coalition.protocols.linear import DataRole, LinearParams, PartyTable, coordinator, data_role

__all__ = ["HeteroLRParams", "HeteroLinR", "HeteroLR", "LinRParams", "party_table"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})


class LinRParams(LinearParams):
    """:class:`~coalition.protocols.linear.LinearParams` for linear regression."""

    task: Literal["linear"] = Field("linear", description="linear regression only")


class HeteroLRParams(LinearParams):
    """:class:`~coalition.protocols.linear.LinearParams` and label DP for the guest."""

    label_dp_epsilon: float | None = Field(None, gt=0.0, le=20.0, description=(
        "label DP: the guest randomises its labels (randomised response) with this epsilon "
        "before training; None: off"))

    @model_validator(mode="after")
    def _label_dp_needs_classes(self) -> HeteroLRParams:
        if self.label_dp_epsilon is not None and self.task != "logistic":
            raise ParamConflict("label_dp_epsilon (randomised response) needs task logistic",
                                "label_dp_epsilon", "task")
        return self


def _label_dp(ctx: TaskContext) -> float | None:
    params = ctx.params_as(LinearParams)
    return params.label_dp_epsilon if isinstance(params, HeteroLRParams) else None


def party_table(data: Dataset, label_dp_epsilon: float | None = None,
                classes: np.ndarray[Any, Any] | None = None) -> PartyTable:
    """The protocol's table (sorted by ID) from a dataset; labels only where the dataset has,
    randomised by randomised response over ``classes`` (default 0/1) when
    ``label_dp_epsilon`` is set."""
    labels = data.labels() if data.label_column is not None else None
    if labels is not None and label_dp_epsilon is not None:
        labels = randomised_response(labels, label_dp_epsilon,
                                     np.array([0.0, 1.0]) if classes is None else classes)
    return PartyTable.from_arrays(data.ids(), data.feature_matrix(), labels, data.features)


def _train(ctx: TaskContext) -> DataRole:
    params = ctx.params_as(LinearParams)
    if isinstance(params, HeteroLRParams):  # the protocol's own parameters, without label DP
        params = LinearParams.parse(params.model_dump(exclude={"label_dp_epsilon"}))
    return data_role(params, ctx.role).fit(
        ctx.comm, party_table(ctx.dataset("train_data"), _label_dp(ctx)))


def _host(family: str, ctx: TaskContext) -> dict[str, Artifact]:
    est = _train(ctx)
    return {"model": ModelPart(family, ctx.role, est.model_.to_artifact())}


def _guest(family: str, ctx: TaskContext) -> dict[str, Artifact]:
    est = _train(ctx)
    loss = list(est.history_.loss)
    epsilon = _label_dp(ctx)
    dp = {} if epsilon is None else {"label_dp_epsilon": epsilon,
                                     "label_dp_keep": keep_probability(epsilon, 2)}
    return {"model": ModelPart(family, ctx.role, est.model_.to_artifact()),
            "metrics": Metrics({"epochs": float(est.history_.epochs),
                                **({"final_loss": float(loss[-1])} if loss else {}), **dp})}


def _arbiter(family: str, ctx: TaskContext) -> dict[str, Artifact]:
    coordinator(ctx.params_as(LinearParams)).fit(ctx.comm)
    return {}


_RUN: dict[Role, Callable[[str, TaskContext], dict[str, Artifact]]] = {
    Role.GUEST: _guest, Role.HOST: _host, Role.ARBITER: _arbiter}


@register
class HeteroLR(Component):
    """Vertical logistic regression (``task`` may also be ``linear``)."""

    name = "hetero_lr"
    version = "1.0.0"
    description = "Vertical logistic regression: secret sharing or Paillier (LinearParams)."
    Params: ClassVar[type[LinearParams]] = HeteroLRParams
    roles = _ALL
    required_roles = _PARTIES
    inputs = slots(train_data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned training rows"))
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="this party's weights"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST}), doc="training loss"),
    )

    @classmethod
    def default_roles(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """``he-guest`` runs without an arbiter; the others use one when the job has it."""
        return _PARTIES if raw_params.get("protocol") == "he-guest" else _ALL

    @classmethod
    def roles_needed(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """``he-arbiter`` needs the arbiter (it holds the key)."""
        return _ALL if raw_params.get("protocol") == "he-arbiter" else _PARTIES

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Train this party's role; guest and hosts return their model part."""
        return _RUN[ctx.role](self.family(), ctx)


@register
class HeteroLinR(HeteroLR):
    """Vertical linear regression: ``hetero_lr`` with ``task: linear``."""

    name = "hetero_linr"
    version = "1.0.0"
    description = "Vertical linear regression: secret sharing or Paillier (LinearParams)."
    Params = LinRParams
