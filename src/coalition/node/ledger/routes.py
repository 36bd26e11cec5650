"""``/ledger``: the federation log held on this node — entries, inclusion proofs, signed heads,
verification, alerts (docs/ledger.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from coalition.node.api.deps import Require, runtime
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.ledger import service
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/ledger", tags=["ledger"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.AUDIT_READ))]
Publisher = Annotated[Principal, Depends(Require(Permission.JOBS_SUBMIT))]
Admin = Annotated[Principal, Depends(Require(Permission.PARTNERS_MANAGE))]
Origin = Annotated[str | None, Query(max_length=128, description="default: this node's log")]


class AcknowledgeIn(BaseModel):
    """Why the alert's job stop may be lifted."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class SyncIn(BaseModel):
    """Extra witnesses to ask besides the organisations of this node's jobs."""

    model_config = ConfigDict(extra="forbid")

    witnesses: list[str] = Field(default_factory=list, max_length=200)


@router.get("/entries", summary="Entries of a log held here")
def entries(caller: Reader, rt: Runtime, *, origin: Origin = None,
            job: Annotated[str | None, Query(max_length=32)] = None,
            after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
            limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict[str, Any]:
    return service.show(rt, origin=origin, job=job, after=after, limit=limit)


@router.get("/entries/{seq}/proof", summary="Inclusion proof of one entry (RFC 9162)")
def proof(seq: Annotated[int, Path(ge=0, le=2**31 - 1)], caller: Reader, rt: Runtime,
          origin: Origin = None) -> dict[str, Any]:
    return service.prove(rt, seq, origin)


@router.get("/checkpoints", summary="Signed tree heads held here, newest first")
def checkpoints(caller: Reader, rt: Runtime, origin: Origin = None) -> list[dict[str, Any]]:
    return service.checkpoints(rt, origin)


@router.post("/checkpoints", summary="Pull partners' entries, sign a head, collect co-signatures")
def sync(body: SyncIn, caller: Publisher, rt: Runtime) -> dict[str, Any]:
    return service.sync(rt, body.witnesses)


@router.get("/verify", summary="Verify every log held here against its newest signed head")
def verify(caller: Reader, rt: Runtime) -> dict[str, Any]:
    return service.verify(rt)


@router.get("/alerts", summary="Forks and rewrites detected in partners' logs")
def alerts(caller: Reader, rt: Runtime,
           open_only: Annotated[bool, Query(alias="open")] = False) -> list[dict[str, Any]]:
    return service.alerts(rt, open_only=open_only)


@router.post("/alerts/{alert_id}/acknowledge", summary="Lift an alert's stop on new jobs")
def acknowledge(alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: AcknowledgeIn,
                caller: Admin, rt: Runtime) -> dict[str, Any]:
    return service.acknowledge(rt, caller.actor, alert_id, body.reason)
