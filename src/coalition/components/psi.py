"""``psi``: align the guest's and hosts' tables on their shared IDs (private set intersection).

Wraps :mod:`coalition.protocols.psi` (ECDH over X25519 for two or more parties, or OPRF).
Delivery is fixed to ``both``: every party learns the intersection, which it needs to keep its
aligned rows for the vertical tasks that follow. Who learns what is the protocol's: each party
learns the shared IDs and the other parties' set sizes, nothing about IDs outside the
intersection. The output keeps this party's rows of the shared IDs, in the one order all
parties agree on (ascending canonical ID), so row ``i`` is the same entity everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import pandas as pd
from pydantic import model_validator

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.context import Context
from coalition.core.ids import Role
from coalition.core.params import ParamConflict
from coalition.protocols.psi import Delivery, PsiParams, PsiResult, run_guest, run_host
from coalition.protocols.psi.canonical import Canonicaliser

__all__ = ["Psi", "PsiComponentParams"]

_log = logging.getLogger(__name__)
_PARTIES = frozenset({Role.GUEST, Role.HOST})
#: A party's PSI role: its context, its IDs, the parameters; every role returns a PsiResult.
PsiRole = Callable[[Context, list[str], PsiParams], PsiResult]
_RUN: dict[Role, PsiRole] = {Role.GUEST: run_guest, Role.HOST: run_host}


class PsiComponentParams(PsiParams):
    """:class:`~coalition.protocols.psi.PsiParams`, with delivery ``both`` (see module doc)."""

    @model_validator(mode="after")
    def _everyone_aligns(self) -> PsiComponentParams:
        if self.delivery != Delivery.BOTH:
            raise ParamConflict("the psi component needs delivery 'both': every party keeps "
                                "its aligned rows for the tasks that follow", "delivery")
        return self


@register
class Psi(Component):
    """Private set intersection, then keep the shared rows in the agreed order."""

    name = "psi"
    version = "1.0.0"
    description = "Private set intersection on the ID column; outputs each party's aligned rows."
    Params = PsiComponentParams
    roles = _PARTIES
    required_roles = _PARTIES
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="the party's table"))
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="rows of shared IDs, agreed order"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="input and intersection sizes"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Run this party's PSI role on the ID column."""
        data = ctx.dataset("data")
        params = ctx.params_as(PsiComponentParams)
        ids: list[str] = data.frame[data.id_column].astype(str).tolist()
        result = _RUN[ctx.role](ctx.comm, ids, PsiParams.parse(params.model_dump()))
        aligned = data.with_frame(result.select(data.frame))
        if result.size == 0:
            # Not an error (the parties may simply share no customers) but every vertical task
            # after this one would train on nothing: say so where the operator looks.
            _log.warning("psi: the intersection is empty (task %s); check the ID column and "
                         "its format on every party", ctx.task)
        # bytes this party put on and took off the wire for the protocol (encoded payloads):
        # the node's PSI run record reports their sum as ``wire_bytes``
        metrics = {"input_rows": float(len(data.frame)), "intersection_size": float(result.size),
                   "bytes_sent": float(result.summary.bytes_sent),
                   "bytes_received": float(result.summary.bytes_received)}
        metrics.update(_duplicate_counts(data, ctx.task))
        return {"data": aligned, "metrics": Metrics(metrics)}


def _duplicate_counts(data: Dataset, task: str) -> dict[str, float]:
    """IDs occurring more than once (after canonicalisation; PSI keeps the first row) and, on
    the labelled party, those whose rows disagree on the label: counted, and warned about, so
    a dropped conflicting row is never silent. Local only: nothing here is sent."""
    canon = pd.Series(Canonicaliser().many(data.frame[data.id_column].astype(str).tolist()))
    repeated = canon[canon.duplicated(keep=False)]
    out = {"duplicate_ids": float(repeated.nunique())}
    if data.label_column is not None and len(repeated):
        labels = pd.Series(data.frame[data.label_column].to_numpy()).loc[repeated.index]
        conflicting = int((labels.groupby(repeated).nunique(dropna=False) > 1).sum())
        out["duplicate_ids_conflicting_labels"] = float(conflicting)
        if conflicting:
            _log.warning("psi: %d IDs occur more than once with different labels (task %s); "
                         "only the first row of each is kept", conflicting, task)
    return out
