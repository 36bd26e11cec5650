"""``hetero_nn``: vertical neural network by split learning (issue 24).

Wraps :mod:`coalition.protocols.splitnn`: each party trains a bottom model on its own aligned
columns (numpy, or PyTorch with ``backend: torch``); the guest trains the interactive layer and
the top model; each host's block ``W_h`` of the interactive layer stays secret-shared between
the guest and that host (one or more hosts), with the arbiter dealing the triples (so the
arbiter is required, and should sit at an organisation holding no data of the task). Who
learns what is the protocol's (``docs/hetero_nn.md``): the guest learns the loss and
``α_h·W_h`` per row (the sum over hosts, with several), never a host's features or bottom outputs; a host learns the
gradient of its bottom output, which leaks label information (Li et al. 2022) — bounded with
``grad_noise`` or ``label_dp_epsilon``. A host with fewer features than its node's
``policy_min_serving_features`` refuses to take part (``α_h·W_h`` would then be a function of
one feature), before anything is sent. Rows must be aligned (run ``psi`` first): the
alignment check of :mod:`coalition.protocols.alignment` runs first, as for SecureBoost.
Score with ``predict`` listing the arbiter among its roles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.ids import Role
from coalition.protocols.alignment import check_alignment_guest, check_alignment_host
from coalition.protocols.splitnn import (
    HeteroNNParams,
    SplitNNDealer,
    SplitNNGuest,
    SplitNNHost,
    refuse_too_few_features,
)

__all__ = ["HeteroNN"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_ALL = frozenset({Role.GUEST, Role.HOST, Role.ARBITER})


def _guest(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    params = ctx.params_as(HeteroNNParams)
    check_alignment_guest(ctx.comm.sub("align_train"), train.ids(), params.suite)
    est = SplitNNGuest(params).fit(
        ctx.comm, train.feature_matrix(), train.labels())
    return {"model": ModelPart(HeteroNN.family(), ctx.role, est.to_artifact()),
            "metrics": Metrics({"epochs": float(len(est.loss_)),
                                "final_loss": float(est.loss_[-1])})}


def _host(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    refuse_too_few_features(len(train.features), ctx.env.policy_min_serving_features)
    params = ctx.params_as(HeteroNNParams)
    check_alignment_host(ctx.comm.sub("align_train"), train.ids(), params.suite)
    est = SplitNNHost(params).fit(ctx.comm, train.feature_matrix())
    return {"model": ModelPart(HeteroNN.family(), ctx.role, est.to_artifact())}


def _arbiter(ctx: TaskContext) -> dict[str, Artifact]:
    SplitNNDealer(ctx.params_as(HeteroNNParams)).fit(ctx.comm)
    return {}


_RUN: dict[Role, Callable[[TaskContext], dict[str, Artifact]]] = {
    Role.GUEST: _guest, Role.HOST: _host, Role.ARBITER: _arbiter}


@register
class HeteroNN(Component):
    """Split-learning training (one or more hosts; the arbiter deals)."""

    name = "hetero_nn"
    version = "1.0.0"
    description = ("Vertical neural network (split learning): bottom models per party, "
                   "secret-shared interactive layer, guest's top model.")
    Params = HeteroNNParams
    roles = _ALL
    required_roles = _ALL
    inputs = slots(train_data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned training rows"))
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _PARTIES,
                     doc="this party's bottom model and share of the interactive layer"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST}), doc="training loss"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Train this party's role."""
        return _RUN[ctx.role](ctx)
