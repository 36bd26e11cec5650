"""``hetero_secureboost``: vertical gradient-boosted trees (SecureBoost, Cheng et al. 2021).

Wraps :mod:`coalition.protocols.secureboost`. Who learns what is the protocol's: the guest
(labels, HE key: OU or Paillier) learns gains and row partitions of host splits, never host features or
thresholds; hosts learn sampled rows and node membership, never labels or plaintext gradients.
Each party's model part holds only what it owns (the guest: tree structure and leaf weights;
a host: its own thresholds). Rows must be aligned (run ``psi`` first), in the same order:
:mod:`coalition.protocols.alignment` checks it before training and fails every party with a
typed :class:`~coalition.core.errors.InputError` otherwise.
An optional ``validate_data`` enables early stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core import Context
from coalition.core.ids import Role
from coalition.protocols.alignment import check_alignment_guest, check_alignment_host
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams

__all__ = ["HeteroSecureBoost"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})


def _check_aligned(ctx: TaskContext, check: Callable[[Context, list[str]], None],
                   train: Dataset, valid: Dataset | None) -> None:
    """Fail every party with the same typed error unless rows line up (as hetero LR does)."""
    check(ctx.comm.sub("align_train"), train.ids())
    if valid is not None:
        check(ctx.comm.sub("align_validate"), valid.ids())


def _guest(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    valid = ctx.dataset("validate_data") if ctx.has("validate_data") else None
    _check_aligned(ctx, check_alignment_guest, train, valid)
    est = SecureBoostGuest(ctx.params_as(SecureBoostParams)).fit(
        ctx.comm, train.feature_matrix(), train.labels(),
        None if valid is None else valid.feature_matrix(),
        None if valid is None else valid.labels())
    metrics = {"trees": float(len(est.trees_))}
    if est.best_iteration_ is not None:
        metrics["best_iteration"] = float(est.best_iteration_)
    return {"model": ModelPart(HeteroSecureBoost.family(), ctx.role, est.to_artifact()),
            "metrics": Metrics(metrics)}


def _host(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    valid = ctx.dataset("validate_data") if ctx.has("validate_data") else None
    _check_aligned(ctx, check_alignment_host, train, valid)
    est = SecureBoostHost(ctx.params_as(SecureBoostParams)).fit(
        ctx.comm, train.feature_matrix(), None if valid is None else valid.feature_matrix())
    return {"model": ModelPart(HeteroSecureBoost.family(), ctx.role, est.to_artifact())}


_RUN: dict[Role, Callable[[TaskContext], dict[str, Artifact]]] = {
    Role.GUEST: _guest, Role.HOST: _host}


@register
class HeteroSecureBoost(Component):
    """SecureBoost training."""

    name = "hetero_secureboost"
    version = "1.0.0"
    description = "Vertical SecureBoost (OU- or Paillier-encrypted gradients; guest holds the key)."
    Params = SecureBoostParams
    roles = _PARTIES
    required_roles = _PARTIES
    inputs = slots(
        train_data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned training rows"),
        validate_data=Input(ArtifactKind.DATASET, _PARTIES, optional=True,
                               doc="aligned validation rows (early stopping)"),
    )
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="this party's part of the trees"),
        metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST}), doc="trees kept"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Train this party's role."""
        return _RUN[ctx.role](ctx)
