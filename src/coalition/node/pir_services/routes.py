"""``/pir``: PIR services. A provider publishes tables from registered datasets, sets quotas
and rebuilds them; a consumer queries a partner's service (JSON list or an uploaded CSV of
IDs; answers in query order, as JSON, CSV or Parquet); both list their batch records."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from coalition.core.errors import InputError
from coalition.node.api.deps import Require, runtime
from coalition.node.api.uploads import read_csv_upload
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.data.reading import to_records
from coalition.node.pir_services import batches, consumer, services
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/pir", tags=["pir"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.SERVICES_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.SERVICES_MANAGE))]
Querier = Annotated[Principal, Depends(Require(Permission.SERVICES_PREDICT))]
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ServiceRef = Annotated[str, Path(min_length=1, max_length=64, description="service name or id")]
Mode = Literal["download", "bucketed", "ot_decoys"]
Format = Literal["json", "csv", "parquet"]
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


class ServiceIn(BaseModel):
    """A table to publish from a registered dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    dataset: str = Field(max_length=64, description="a dataset registered on this node")
    id_column: str = Field(min_length=1, max_length=128)
    columns: list[str] = Field(min_length=1, max_length=256, description="payload columns")
    modes: list[Mode] = Field(default_factory=lambda: list[Mode](["download"]), min_length=1)
    bucket_bits: int = Field(8, ge=0, le=16, description="bucketed mode: 2**bits buckets")
    quota_per_partner: int | None = Field(None, ge=0, description="padded queries per epoch")
    cron: str | None = Field(None, min_length=9, max_length=128,
                             description="rebuild under a new epoch on this schedule (UTC)")


class ServiceOut(BaseModel):
    """A published service."""

    id: str
    name: str
    dataset: str
    id_column: str
    columns: list[str]
    modes: list[str]
    quota_per_partner: int | None
    cron: str | None
    next_rebuild_at: dt.datetime | None
    epoch: str
    version: int
    rows: int
    built_at: dt.datetime
    created_by: str
    created_at: dt.datetime


class QuotaIn(BaseModel):
    """Padded queries per epoch for a partner, or for one of its API keys."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(min_length=1, max_length=64)
    api_key: str | None = Field(None, max_length=128, description="the partner's API key id")
    max_queries: int = Field(ge=0)


class QuotaOut(BaseModel):
    """A quota."""

    partner: str
    api_key: str
    max_queries: int


class UsageOut(BaseModel):
    """Queries used in the current epoch."""

    partner: str
    api_key: str
    epoch: str
    used: int
    max_queries: int | None


class RemoteServiceOut(BaseModel):
    """A partner's service as it describes itself."""

    service: str
    table_id: str
    modes: list[str]
    columns: list[str]
    epoch: str
    version: int
    rows: int
    verify_key: str


class QueryIn(BaseModel):
    """IDs to look up in a partner's service."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    ids: list[str | int] = Field(min_length=1, max_length=consumer.MAX_IDS)
    mode: Mode | None = Field(None, description="default: the service's first mode")
    columns: list[str] = Field(default_factory=list, max_length=256,
                               description="payload columns (default: all published)")
    decoys: int | None = Field(None, ge=2, le=4096, description="ot_decoys: candidates per ID")
    format: Format = "json"


class BatchOut(BaseModel):
    """A batch record (counts and mode, never an ID)."""

    id: int
    side: str
    service: str
    partner: str
    api_key: str
    actor: str
    mode: str
    queries: int | None
    padded: int | None
    found: int | None
    state: str
    code: str
    epoch: str
    version: int | None
    seconds: float | None
    bytes_sent: int | None
    bytes_received: int | None
    at: dt.datetime


class QueryOut(BaseModel):
    """Answers in query order, and this node's record of the batch."""

    rows: list[dict[str, Any]]
    batch: BatchOut


@router.post("/services", status_code=201, summary="Publish a PIR service")
def publish(body: ServiceIn, caller: Manager, rt: Runtime) -> ServiceOut:
    return ServiceOut(**services.publish(rt, caller.actor, body.model_dump()))


@router.get("/services", summary="List published PIR services")
def list_services(caller: Reader, rt: Runtime) -> list[ServiceOut]:
    return [ServiceOut(**s) for s in services.list_services(rt)]


@router.post("/services/{service}/rebuild", summary="Rebuild a service's table from its dataset")
def rebuild(service: ServiceRef, caller: Manager, rt: Runtime,
            rotate: Annotated[bool, Query(description="under a new key epoch")] = False,
            ) -> ServiceOut:
    return ServiceOut(**services.rebuild(rt, caller.actor, service, rotate=rotate))


@router.delete("/services/{service}", summary="Withdraw a PIR service")
def withdraw(service: ServiceRef, caller: Manager, rt: Runtime) -> ServiceOut:
    """Partners' queries are refused from now on; the table and its keys are deleted; batch
    records stay."""
    return ServiceOut(**services.withdraw(rt, caller.actor, service))


class ScheduleIn(BaseModel):
    """A cron expression (five fields, or six with seconds last), in UTC; null: none."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(min_length=9, max_length=128)


@router.put("/services/{service}/schedule", summary="Rebuild under a new epoch on a schedule")
def set_schedule(service: ServiceRef, body: ScheduleIn, caller: Manager,
                 rt: Runtime) -> ServiceOut:
    return ServiceOut(**services.set_schedule(rt, caller.actor, service, body.cron))


@router.put("/services/{service}/quotas", summary="Set a partner's or API key's quota")
def set_quota(service: ServiceRef, body: QuotaIn, caller: Manager, rt: Runtime) -> QuotaOut:
    return QuotaOut(**services.set_quota(rt, caller.actor, service, partner=body.partner,
                                         max_queries=body.max_queries, api_key=body.api_key))


@router.get("/services/{service}/usage", summary="Quota use in the current epoch")
def usage(service: ServiceRef, caller: Reader, rt: Runtime) -> list[UsageOut]:
    return [UsageOut(**u) for u in services.usage(rt, service)]


@router.get("/partners/{partner}/services/{service}", summary="Describe a partner's service")
def describe(partner: Annotated[str, Path(min_length=1, max_length=64)], service: ServiceRef,
             caller: Reader, rt: Runtime) -> RemoteServiceOut:
    return RemoteServiceOut(**consumer.describe(rt, partner, service).model_dump())


def _answer(frame: pd.DataFrame, batch: dict[str, Any], fmt: str) -> Any:
    if fmt == "json":
        return QueryOut(rows=to_records(frame), batch=BatchOut(**batch))
    headers = {"X-Pir-Batch": str(batch["id"])}
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv", headers={
            **headers, "Content-Disposition": 'attachment; filename="pir.csv"'})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet", headers={
        **headers, "Content-Disposition": 'attachment; filename="pir.parquet"'})


def _label(caller: Principal) -> str:
    """What the partner sees of the credential that asked: an API key's id, or nothing."""
    return caller.key_id or ""


@router.post("/query", summary="Look up IDs in a partner's PIR service",
             response_model=QueryOut, responses={200: {"content": {
                 "text/csv": {}, "application/vnd.apache.parquet": {}}}})
def query(body: QueryIn, caller: Querier, rt: Runtime) -> Any:
    frame, batch = consumer.query(rt, caller.actor, _label(caller), partner=body.partner,
                                  service=body.service, ids=body.ids, mode=body.mode,
                                  columns=body.columns, decoys=body.decoys)
    return _answer(frame, batch, body.format)


def _read_ids(raw: bytes, column: str | None) -> list[str]:
    frame = read_csv_upload(raw, MAX_UPLOAD_BYTES)
    name = column or (str(frame.columns[0]) if len(frame.columns) else None)
    if name is None or name not in frame.columns:
        raise InputError("the CSV file has no such column", field="column")
    return [str(x) for x in frame[name]]


@router.post("/query/file", summary="Look up the IDs of an uploaded CSV file",
             response_model=QueryOut, responses={200: {"content": {
                 "text/csv": {}, "application/vnd.apache.parquet": {}}}})
def query_file(caller: Querier, rt: Runtime, *,
               body: Annotated[bytes, Body(media_type="text/csv")],
               partner: Annotated[str, Query(min_length=1, max_length=64)],
               service: Annotated[str, Query(min_length=1, max_length=64)],
               column: Annotated[str | None, Query(max_length=128,
                                                   description="default: the first")] = None,
               mode: Mode | None = None,
               columns: Annotated[list[str] | None, Query(max_length=256)] = None,
               decoys: Annotated[int | None, Query(ge=2, le=4096)] = None,
               fmt: Annotated[Format, Query(alias="format")] = "json") -> Any:
    ids = _read_ids(body, column)
    frame, batch = consumer.query(rt, caller.actor, _label(caller), partner=partner,
                                  service=service, ids=ids, mode=mode, columns=columns or (),
                                  decoys=decoys)
    return _answer(frame, batch, fmt)


@router.get("/batches", summary="PIR batch records (both sides)")
def list_batches(caller: Reader, rt: Runtime, *,
                 side: Annotated[Literal["provider", "consumer"] | None, Query()] = None,
                 service: Annotated[str | None, Query(max_length=64)] = None,
                 partner: Annotated[str | None, Query(max_length=64)] = None,
                 state: Annotated[Literal["ok", "refused", "failed"] | None, Query()] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[BatchOut]:
    return [BatchOut(**b) for b in batches.list_batches(
        rt, side=side, service=service, partner=partner, state=state, limit=limit)]
