"""``/audit``: list, export and verify the hash-chained audit trail (auditors)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from coalition.node.api.deps import Require, runtime
from coalition.node.audit import trail as audit
from coalition.node.audit.trail import event_dict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.runtime import NodeRuntime

__all__ = ["event_dict", "router"]

router = APIRouter(prefix="/audit", tags=["audit"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.AUDIT_READ))]
Exporter = Annotated[Principal, Depends(Require(Permission.AUDIT_EXPORT))]


class EventOut(BaseModel):
    """One audit entry, with its chain hashes."""

    seq: int
    at: dt.datetime
    kind: str
    actor: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str
    mac: str | None = None


class Verification(BaseModel):
    """Result of re-computing the hash chain."""

    ok: bool
    checked: int
    head: str
    first_bad: int | None
    reason: str
    checkpoint: int | None = None


@router.get("/events", response_model=list[EventOut], summary="List audit events")
def list_events(_: Reader, rt: Runtime,
                after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                kind: Annotated[str | None, Query(max_length=64)] = None) -> list[EventOut]:
    """Entries with ``seq > after``, oldest first; page with the last ``seq`` seen."""
    with rt.db.session() as db:
        rows = audit.list_events(db, after=after, limit=limit, kind=kind)
        return [EventOut(**event_dict(r)) for r in rows]


@router.get("/export", summary="Export the whole trail as JSON lines",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(_: Exporter, rt: Runtime) -> StreamingResponse:
    """Every entry, one JSON object per line, in chain order (verifiable offline)."""
    def lines() -> Iterator[bytes]:
        with rt.db.session() as db:
            for row in audit.iter_events(db):
                yield (json.dumps(event_dict(row), sort_keys=True) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/verify", response_model=Verification, summary="Verify the hash chain")
def verify(_: Reader, rt: Runtime) -> Verification:
    """Recompute every hash and MAC and check the signed checkpoint; names the first bad entry."""
    with rt.db.session() as db:
        result = audit.verify(db)
    return Verification(ok=result.ok, checked=result.checked, head=result.head,
                        first_bad=result.first_bad, reason=result.reason,
                        checkpoint=result.checkpoint)
