"""``hetero_secureboost``: vertical gradient-boosted trees (SecureBoost, Cheng et al. 2021).

Wraps :mod:`coalition.protocols.secureboost`. Who learns what is the protocol's: the guest
(labels, HE key: OU or Paillier) learns gains and row partitions of host splits, never host features or
thresholds; hosts learn sampled rows and node membership, never labels or plaintext gradients.
Each party's model part holds only what it owns (the guest: tree structure and leaf weights;
a host: its own thresholds). Rows must be aligned (run ``psi`` first), in the same order:
:mod:`coalition.protocols.alignment` checks it before training and fails every party with a
typed :class:`~coalition.core.errors.InputError` otherwise.
An optional ``validate_data`` enables early stopping.

``label_dp_epsilon`` (classification objectives): the guest applies randomised response to
its training and validation labels before training (:mod:`coalition.protocols.label_dp`), so
every gradient it encrypts and the trees are ε-label-DP; the guest's metrics report
``label_dp_epsilon`` and ``label_dp_keep``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core import Context
from coalition.core.ids import Role
from coalition.core.params import ParamConflict
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.alignment import check_alignment_guest, check_alignment_host
from coalition.protocols.label_dp import keep_probability, randomised_response
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams
from coalition.protocols.secureboost.spec import Objective

__all__ = ["HeteroSecureBoost", "HeteroSecureBoostParams"]


class HeteroSecureBoostParams(SecureBoostParams):
    """:class:`~coalition.protocols.secureboost.SecureBoostParams` and label DP for the guest."""

    label_dp_epsilon: float | None = Field(None, gt=0.0, le=20.0, description=(
        "label DP: the guest randomises its labels (randomised response) with this epsilon "
        "before training; None: off"))

    @model_validator(mode="after")
    def _label_dp_needs_classes(self) -> HeteroSecureBoostParams:
        if self.label_dp_epsilon is not None and self.objective is Objective.REGRESSION:
            raise ParamConflict("label_dp_epsilon (randomised response) needs a classification "
                                "objective", "label_dp_epsilon", "objective")
        return self

    def protocol_params(self) -> SecureBoostParams:
        """The protocol's parameters (what the model parts record): all but label DP."""
        return SecureBoostParams(**self.model_dump(include=set(SecureBoostParams.model_fields)))

    def classes(self) -> np.ndarray[Any, Any]:
        """The label values randomised response draws from."""
        k = self.num_class if self.objective is Objective.MULTICLASS else 2
        return np.arange(k, dtype=np.float64)

_PARTIES = frozenset({Role.GUEST, Role.HOST})


def _check_aligned(ctx: TaskContext, check: Callable[[Context, list[str], CryptoSuite], None],
                   train: Dataset, valid: Dataset | None) -> None:
    """Fail every party with the same typed error unless rows line up (as hetero LR does);
    the digests use the job's crypto suite."""
    suite = ctx.params_as(SecureBoostParams).suite
    check(ctx.comm.sub("align_train"), train.ids(), suite)
    if valid is not None:
        check(ctx.comm.sub("align_validate"), valid.ids(), suite)


def _guest(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    valid = ctx.dataset("validate_data") if ctx.has("validate_data") else None
    _check_aligned(ctx, check_alignment_guest, train, valid)
    params = ctx.params_as(SecureBoostParams)
    dp = params if isinstance(params, HeteroSecureBoostParams) else None
    epsilon = None if dp is None else dp.label_dp_epsilon
    y, y_valid = train.labels(), None if valid is None else valid.labels()
    if dp is not None and epsilon is not None:
        y = randomised_response(y, epsilon, dp.classes())
        y_valid = None if y_valid is None else randomised_response(y_valid, epsilon,
                                                                   dp.classes())
    est = SecureBoostGuest(params if dp is None else dp.protocol_params()).fit(
        ctx.comm, train.feature_matrix(), y,
        None if valid is None else valid.feature_matrix(), y_valid)
    metrics = {"trees": float(len(est.trees_))}
    if dp is not None and epsilon is not None:
        metrics |= {"label_dp_epsilon": epsilon,
                    "label_dp_keep": keep_probability(epsilon, len(dp.classes()))}
    if est.best_iteration_ is not None:
        metrics["best_iteration"] = float(est.best_iteration_)
    return {"model": ModelPart(HeteroSecureBoost.family(), ctx.role, est.to_artifact()),
            "metrics": Metrics(metrics)}


def _host(ctx: TaskContext) -> dict[str, Artifact]:
    train = ctx.dataset("train_data")
    valid = ctx.dataset("validate_data") if ctx.has("validate_data") else None
    _check_aligned(ctx, check_alignment_host, train, valid)
    params = ctx.params_as(SecureBoostParams)
    if isinstance(params, HeteroSecureBoostParams):
        params = params.protocol_params()
    est = SecureBoostHost(params).fit(
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
    Params = HeteroSecureBoostParams
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
