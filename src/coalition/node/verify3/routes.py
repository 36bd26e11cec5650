"""``/verify3``: private three-element verification. A provider publishes a service from a
registered dataset (``services.manage``); a consumer verifies a batch of triples against a
partner's service (``services.predict``); both list services and batch records
(``services.read``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from coalition.core.errors import InputError
from coalition.node.api.deps import Require, runtime
from coalition.node.api.uploads import read_csv_upload
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.runtime import NodeRuntime
from coalition.node.verify3 import service

__all__ = ["router"]

router = APIRouter(prefix="/verify3", tags=["verify3"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.SERVICES_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.SERVICES_MANAGE))]
Querier = Annotated[Principal, Depends(Require(Permission.SERVICES_PREDICT))]
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_TRIPLES = 100_000
MAX_UPLOAD_BYTES = 64 << 20
_COLUMN = Annotated[str, Query(min_length=1, max_length=128)]


class ServiceIn(BaseModel):
    """A service: a registered dataset and its three columns."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    dataset: str = Field(max_length=64, description="a dataset registered on this node")
    phone_column: str = Field("phone", min_length=1, max_length=128)
    name_column: str = Field("name", min_length=1, max_length=128)
    id_number_column: str = Field("id_number", min_length=1, max_length=128)
    phone_country: str = Field("", pattern=r"^[0-9]{0,4}$",
                               description="country code prefixed to national numbers")
    quota: int | None = Field(None, ge=0, description="OPRF evaluations per partner per epoch "
                                                      "(three per padded triple); null: none")


class ServiceOut(BaseModel):
    """A published service (no key, no tag)."""

    name: str
    dataset: str
    phone_column: str
    name_column: str
    id_number_column: str
    phone_country: str
    suite: str
    epoch: str
    rows: int
    quota: int | None
    created_by: str
    built_at: dt.datetime


class QueryIn(BaseModel):
    """Triples to verify against a partner's service."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(max_length=64)
    service: str = Field(pattern=_NAME)
    triples: list[tuple[str, str, str]] = Field(min_length=1, max_length=MAX_TRIPLES,
                                                description="[phone, name, id_number] each")


class Flags(BaseModel):
    """One triple's answer."""

    phone_found: bool
    name_match: bool
    id_match: bool


class QueryOut(BaseModel):
    """Flags in the order of the triples, and what the batch cost."""

    results: list[Flags]
    summary: dict[str, str | int | float]


class BatchOut(BaseModel):
    """One batch record (counts only)."""

    id: int
    side: str
    partner: str
    service: str
    epoch: str
    elements: int
    triples: int | None
    actor: str
    at: dt.datetime


@router.post("/services", response_model=ServiceOut, status_code=201,
             summary="Publish a verification service")
def publish(body: ServiceIn, rt: Runtime, who: Manager) -> ServiceOut:
    """Build the match tags of every record under a fresh key (a new epoch)."""
    return ServiceOut(**service.publish(rt, who.actor, body.model_dump()))


@router.get("/services", response_model=list[ServiceOut], summary="Verification services")
def services(rt: Runtime, _: Reader) -> list[ServiceOut]:
    """Every service this node publishes."""
    return [ServiceOut(**s) for s in service.list_services(rt)]


@router.post("/services/{name}/rebuild", response_model=ServiceOut,
             summary="Rebuild a service (new key, new epoch)")
def rebuild(name: Annotated[str, Path(pattern=_NAME)], rt: Runtime, who: Manager) -> ServiceOut:
    """Re-read the dataset and rebuild under a fresh key; quotas start again."""
    return ServiceOut(**service.rebuild(rt, who.actor, name))


@router.delete("/services/{name}", response_model=ServiceOut,
               summary="Withdraw a verification service")
def withdraw(name: Annotated[str, Path(pattern=_NAME)], rt: Runtime,
             who: Manager) -> ServiceOut:
    """Partners' batches are refused from now on; the tags and key are deleted."""
    return ServiceOut(**service.withdraw(rt, who.actor, name))


@router.post("/query", response_model=QueryOut, summary="Verify triples at a partner")
def query(body: QueryIn, rt: Runtime, who: Querier) -> QueryOut:
    """Per triple: the partner has a record for the phone, its name and ID number match."""
    out = service.query(rt, who.actor, body.partner, body.service,
                        [list(t) for t in body.triples])
    return QueryOut.model_validate(out)


def _read_triples(raw: bytes, columns: list[str]) -> list[list[str]]:
    frame = read_csv_upload(raw, MAX_UPLOAD_BYTES)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError("the CSV file lacks columns", columns=missing)
    if not 1 <= len(frame) <= MAX_TRIPLES:
        raise InputError("a batch holds 1 to 100,000 triples", rows=len(frame))
    return [[str(v) for v in row] for row in frame[columns].itertuples(index=False)]


@router.post("/query/file", response_model=QueryOut,
             summary="Verify the triples of an uploaded CSV file at a partner")
def query_file(rt: Runtime, who: Querier, *,
               body: Annotated[bytes, Body(media_type="text/csv")],
               partner: Annotated[str, Query(min_length=1, max_length=64)],
               service_name: Annotated[str, Query(alias="service", pattern=_NAME)],
               phone_column: _COLUMN = "phone", name_column: _COLUMN = "name",
               id_number_column: _COLUMN = "id_number") -> QueryOut:
    """The file's rows verified in order (the same batch as ``/query``)."""
    triples = _read_triples(body, [phone_column, name_column, id_number_column])
    out = service.query(rt, who.actor, partner, service_name, triples)
    return QueryOut.model_validate(out)


@router.get("/batches", response_model=list[BatchOut], summary="Verification batch records")
def batches(rt: Runtime, _: Reader,
            side: Annotated[Literal["served", "queried"] | None, Query()] = None,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[BatchOut]:
    """Batches served to partners and queried at partners, newest first (counts only)."""
    return [BatchOut(**b) for b in service.list_batches(rt, side=side, limit=limit)]
