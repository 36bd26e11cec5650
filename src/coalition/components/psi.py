"""``psi``: align the guest's and hosts' tables on their shared IDs (private set intersection).

Wraps :mod:`coalition.protocols.psi` (ECDH over X25519 for two or more parties, or OPRF).
Delivery is fixed to ``both``: every party learns the intersection, which it needs to keep its
aligned rows for the vertical tasks that follow. Who learns what is the protocol's: each party
learns the shared IDs and the other parties' set sizes, nothing about IDs outside the
intersection. The output keeps this party's rows of the shared IDs, in the one order all
parties agree on (ascending canonical ID), so row ``i`` is the same entity everywhere.

Periodic unbalanced PSI (``protocol: oprf``) on a node keeps state between runs in the folder
the node gives the party (:attr:`~coalition.components.Environment.state_dir`, scoped to the
partner organisations): the host its PRF table (PRF evaluated for new IDs only), the guest its
copy of the host's table, so a later run sends only the added values and tombstones
(:mod:`coalition.protocols.psi.oprf.cache`). A delta tells the guest nothing the two full
tables would not (it could diff them itself). Standalone runs keep nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from pydantic import model_validator

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.context import Context
from coalition.core.ids import Role
from coalition.core.params import ParamConflict
from coalition.protocols.psi import (
    ClientTableCache,
    Delivery,
    PrfTable,
    PsiParams,
    PsiProtocol,
    PsiResult,
    run_guest,
    run_host,
)
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
        psi_params = PsiParams.parse(params.model_dump())
        if psi_params.protocol == PsiProtocol.OPRF and ctx.env.state_dir is not None:
            result = _run_oprf_kept(ctx, ids, psi_params, ctx.env.state_dir, data.id_column)
        else:
            result = _RUN[ctx.role](ctx.comm, ids, psi_params)
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
        metrics.update(_table_metrics(result))
        return {"data": aligned, "metrics": Metrics(metrics)}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two runs with one partner never interleave writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_oprf_kept(ctx: TaskContext, ids: list[str], params: PsiParams, state: Path,
                   id_column: str) -> PsiResult:
    """OPRF-PSI with the party's kept table (host) or kept copy of it (guest)."""
    root = state / "psi-oprf"
    if ctx.role == Role.HOST:
        # one table per ID column, suite and width: a change of any starts a new epoch
        name = hashlib.sha256(f"{id_column}|{params.suite.value}|{params.oprf_prf_bytes}"
                              .encode()).hexdigest()[:16]
        with _locked(root / f"server-{name}.lock"):
            table = PrfTable(root / "server" / name, prf_bytes=params.oprf_prf_bytes,
                             suite=params.suite)
            return run_host(ctx.comm, ids, params, prf_table=table)
    with _locked(root / "client.lock"):
        return run_guest(ctx.comm, ids, params, table_cache=ClientTableCache(root / "client"))


def _table_metrics(result: PsiResult) -> dict[str, float]:
    """OPRF table bookkeeping: the host's sync counts, the guest's full or delta transfer."""
    extra = result.summary.extra
    out: dict[str, float] = {}
    sync = extra.get("table_sync")
    if isinstance(sync, dict):
        out.update({f"oprf_table_{k}": float(sync[k]) for k in ("added", "removed", "reused")})
    mode = extra.get("table_mode")
    if mode is not None:
        out["oprf_table_delta"] = 1.0 if mode == "delta" else 0.0
    return out


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
