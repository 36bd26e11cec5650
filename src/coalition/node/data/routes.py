"""``/datasets``: register local data, preview it (owner only), share it with partners."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import Name, NamePath, Ok, Strict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.data import datasets
from coalition.node.data.tables import Dataset
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/datasets", tags=["datasets"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.DATASETS_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.DATASETS_MANAGE))]
Previewer = Annotated[Principal, Depends(Require(Permission.DATASETS_PREVIEW))]
Sharer = Annotated[Principal, Depends(Require(Permission.DATASETS_SHARE))]


class Column(BaseModel):
    """One column of the inferred schema."""

    name: str
    type: str


class DatasetOut(BaseModel):
    """A registered dataset as the owner's users see it."""

    name: str
    kind: str
    location: str
    table: str | None
    id_column: str
    label_column: str | None
    columns: list[Column]
    row_count: int
    description: str
    shared_with: list[str]
    created_by: str
    created_at: dt.datetime


class DatasetCreate(Strict):
    """A CSV/Parquet path on the node's machine, or a SQLAlchemy URL plus a table."""

    name: Name
    kind: Literal["csv", "parquet", "sql"]
    location: str = Field(min_length=1, max_length=4096)
    table: str | None = Field(default=None, min_length=1, max_length=255)
    id_column: str = Field(min_length=1, max_length=255)
    label_column: str | None = Field(default=None, min_length=1, max_length=255)
    description: str = Field(default="", max_length=2000)


class Preview(BaseModel):
    """The first rows."""

    rows: list[dict[str, Any]]


class Stats(BaseModel):
    """Per-column statistics."""

    columns: list[dict[str, Any]]


def _out(db: Session, row: Dataset) -> DatasetOut:
    return DatasetOut(name=row.name, kind=row.kind, location=datasets.safe_location(row),
                      table=row.table, id_column=row.id_column, label_column=row.label_column,
                      columns=[Column(**c) for c in row.columns], row_count=row.row_count,
                      description=row.description, shared_with=datasets.shared_with(db, row),
                      created_by=row.created_by, created_at=row.created_at)


@router.get("", response_model=list[DatasetOut], summary="List datasets")
def list_datasets(_: Reader, rt: Runtime) -> list[DatasetOut]:
    """Every registered dataset."""
    with rt.db.session() as db:
        return [_out(db, d) for d in datasets.list_datasets(db)]


@router.post("", response_model=DatasetOut, status_code=201, summary="Register a dataset")
def register(body: DatasetCreate, caller: Manager, rt: Runtime) -> DatasetOut:
    """Read the source, infer and validate its schema and IDs, and register it."""
    location, inspection = datasets.inspect_source(
        rt.settings, body.kind, body.location, table=body.table, id_column=body.id_column,
        label_column=body.label_column)
    with rt.db.session() as db:
        row = datasets.register_dataset(
            db, caller.actor, body.name, kind=body.kind, location=location, table=body.table,
            id_column=body.id_column, label_column=body.label_column,
            description=body.description, inspection=inspection)
        return _out(db, row)


@router.get("/{name}", response_model=DatasetOut, summary="Get a dataset")
def get_dataset(name: NamePath, _: Reader, rt: Runtime) -> DatasetOut:
    """One dataset's metadata."""
    with rt.db.session() as db:
        return _out(db, datasets.get_dataset(db, name))


@router.delete("/{name}", response_model=Ok, summary="Unregister a dataset")
def remove(name: NamePath, caller: Manager, rt: Runtime) -> Ok:
    """Forget the dataset (the data itself is untouched); its grants go with it."""
    with rt.db.session() as db:
        datasets.remove_dataset(db, caller.actor, name)
    return Ok()


@router.get("/{name}/preview", response_model=Preview, summary="First rows (owner only)")
def preview(name: NamePath, _: Previewer, rt: Runtime,
            limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> Preview:
    """Raw values: never offered to partners."""
    with rt.db.session() as db:
        row = datasets.get_dataset(db, name)
    return Preview(rows=datasets.preview(row, limit))


@router.get("/{name}/stats", response_model=Stats, summary="Column statistics (owner only)")
def stats(name: NamePath, _: Previewer, rt: Runtime) -> Stats:
    """Count, missing, distinct, and mean/std/min/max of numeric columns."""
    with rt.db.session() as db:
        row = datasets.get_dataset(db, name)
    return Stats(columns=datasets.stats(row))


@router.put("/{name}/partners/{partner}", response_model=Ok, summary="Make visible to a partner")
def share(name: NamePath, partner: NamePath, caller: Sharer, rt: Runtime) -> Ok:
    """The partner may now see the dataset's name, schema and row count."""
    with rt.db.session() as db:
        datasets.share_dataset(db, caller.actor, name, partner)
    return Ok()


@router.delete("/{name}/partners/{partner}", response_model=Ok, summary="Hide from a partner")
def unshare(name: NamePath, partner: NamePath, caller: Sharer, rt: Runtime) -> Ok:
    """Withdraw visibility (existing grants are revoked separately)."""
    with rt.db.session() as db:
        datasets.unshare_dataset(db, caller.actor, name, partner)
    return Ok()
