"""Batch records on both sides: one row and one audit event per batch, counts and mode only.

The provider records what it saw (partner, API key label, mode, padded size, epoch, state);
the consumer records what it asked (queries, padded size, found). Neither records an ID, a
payload or a function of either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.jobs import repository as repo
from coalition.node.pir_services.metrics import PIR_METRICS
from coalition.node.pir_services.tables import PirBatchRow
from coalition.node.runtime import NodeRuntime

__all__ = ["SIDES", "Batch", "batch_view", "list_batches", "record_batch"]

SIDES = ("provider", "consumer")


@dataclass(frozen=True)
class Batch:
    """One batch's record (see :class:`~.tables.PirBatchRow`)."""

    side: str
    service: str
    partner: str
    api_key: str
    actor: str
    mode: str
    state: str
    code: str = ""
    epoch: str = ""
    version: int | None = None
    queries: int | None = None
    padded: int | None = None
    found: int | None = None
    seconds: float | None = None
    bytes_sent: int | None = None
    bytes_received: int | None = None


def batch_view(row: PirBatchRow) -> dict[str, Any]:
    """A record as the API shows it."""
    return {"id": row.id, "side": row.side, "service": row.service, "partner": row.partner,
            "api_key": row.api_key, "actor": row.actor, "mode": row.mode,
            "queries": row.queries, "padded": row.padded, "found": row.found,
            "state": row.state, "code": row.code, "epoch": row.epoch, "version": row.version,
            "seconds": row.seconds, "bytes_sent": row.bytes_sent,
            "bytes_received": row.bytes_received, "at": row.at}


def record_batch(rt: NodeRuntime, batch: Batch) -> dict[str, Any]:
    """Store the record, emit ``pir.batch`` and count it."""
    def store(db: Session) -> dict[str, Any]:
        row = PirBatchRow(**asdict(batch), at=utcnow())
        db.add(row)
        db.flush()
        details = {k: v for k, v in asdict(batch).items() if k not in ("actor",)}
        emit(db, Event(EventKind.PIR_BATCH, batch.actor, f"pir_batch:{row.id}", details))
        return batch_view(row)

    view = repo.write(rt, store)
    rt.state(PIR_METRICS).record(batch.side, batch.mode, batch.state, batch.padded)
    return view


def list_batches(rt: NodeRuntime, *, side: str | None = None, service: str | None = None,
                 partner: str | None = None, state: str | None = None,
                 since: dt.datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Records, newest first, filtered."""
    query = select(PirBatchRow).order_by(PirBatchRow.id.desc()).limit(limit)
    for column, value in ((PirBatchRow.side, side), (PirBatchRow.service, service),
                          (PirBatchRow.partner, partner), (PirBatchRow.state, state)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(PirBatchRow.at >= since)
    return repo.read(rt, lambda db: [batch_view(r) for r in db.scalars(query)])
