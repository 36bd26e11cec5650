"""``hetero_lr`` / ``hetero_linr``: vertical logistic and linear regression.

Wraps :mod:`coalition.protocols.linear`: ``protocol`` selects secret sharing (``ss``, the
arbiter as Beaver-triple dealer when the job has one, else the guest), or Paillier with the key
at the arbiter (``he-arbiter``) or at the guest (``he-guest``). Who learns what is the
protocol's (``docs/linear.md``): each party ends with only its own weights (the guest also the
intercept); the guest learns the training loss; nobody sees another party's features or the
guest's labels. Rows must be aligned (run ``psi`` first); each party sorts its rows by ID.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.linear import DataRole, LinearParams, PartyTable, coordinator, data_role

__all__ = ["HeteroLinR", "HeteroLR", "LinRParams", "party_table"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})


class LinRParams(LinearParams):
    """:class:`~coalition.protocols.linear.LinearParams` for linear regression."""

    task: Literal["linear"] = Field("linear", description="linear regression only")


def party_table(data: Dataset) -> PartyTable:
    """The protocol's table (sorted by ID) from a dataset; labels only where the dataset has."""
    labels = data.labels() if data.label_column is not None else None
    return PartyTable.from_arrays(data.ids(), data.feature_matrix(), labels, data.features)


def _train(ctx: TaskContext) -> DataRole:
    return data_role(ctx.params_as(LinearParams), ctx.role).fit(
        ctx.comm, party_table(ctx.dataset("train_data")))


def _host(family: str, ctx: TaskContext) -> dict[str, Artifact]:
    est = _train(ctx)
    return {"model": ModelPart(family, ctx.role, est.model_.to_artifact())}


def _guest(family: str, ctx: TaskContext) -> dict[str, Artifact]:
    est = _train(ctx)
    loss = list(est.history_.loss)
    return {"model": ModelPart(family, ctx.role, est.model_.to_artifact()),
            "metrics": Metrics({"epochs": float(est.history_.epochs),
                                **({"final_loss": float(loss[-1])} if loss else {})})}


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
    Params = LinearParams
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
