"""Published PIR services on the provider: publish from a registered dataset, rebuild (sync or
new epoch), quotas, and the loaded tables.

A table is built from the dataset's ID column and payload columns (each row's payload is a
JSON object of those columns, as ``coalition pir build`` makes it) into ``home/pir/<id>``.
A rebuild syncs it with the dataset (new version; clients holding the previous one fetch a
delta); a rebuild with ``rotate`` starts a new key epoch, which also starts every partner's
quota afresh (quota use is counted per epoch).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.compute import ProcessExecutor
from coalition.core.errors import ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset
from coalition.node.db.types import utcnow
from coalition.node.jobs import repository as repo
from coalition.node.partners.directory import get_partner
from coalition.node.pir_services.tables import (
    ALL_KEYS,
    PirQuotaRow,
    PirServiceRow,
    PirUsageRow,
)
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot
from coalition.protocols.pir import PirMode, PirTable, TableSettings
from coalition.protocols.pir.spec import MAX_BUCKET_BITS

__all__ = ["MODES", "TABLES", "LoadedTables", "folder", "get_service", "list_services",
           "next_time", "publish", "set_schedule", "quota_view", "rebuild", "service_view", "set_quota", "usage",
           "withdraw"]

MODES = tuple(m.value for m in PirMode)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PARALLEL_ROWS = 20_000  # below this, worker processes cost more than they save


def folder(rt: NodeRuntime, service_id: str) -> Path:
    """Where a service's table lives."""
    return Path(rt.settings.home) / "pir" / service_id


class LoadedTables:
    """Tables opened from their folders, one per service, replaced whole by a rebuild (a batch
    being answered keeps the table object it started with)."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._rt = rt
        self._lock = threading.Lock()
        self._tables: dict[str, PirTable] = {}
        self.build_lock = threading.Lock()

    def get(self, service_id: str) -> PirTable:
        """The service's table (opened on first use)."""
        with self._lock:
            table = self._tables.get(service_id)
            if table is None:
                table = self._tables[service_id] = PirTable.open(folder(self._rt, service_id))
            return table

    def put(self, service_id: str, table: PirTable) -> None:
        """Serve ``table`` from now on."""
        with self._lock:
            self._tables[service_id] = table

    def drop(self, service_id: str) -> None:
        """Stop serving the service's table (a batch already answering keeps its object)."""
        with self._lock:
            self._tables.pop(service_id, None)


TABLES: Slot[LoadedTables] = Slot("pir_services.tables", LoadedTables)


def service_view(row: PirServiceRow) -> dict[str, Any]:
    """A service as the API shows it."""
    return {"id": row.id, "name": row.name, "dataset": row.dataset, "id_column": row.id_column,
            "columns": list(row.columns), "modes": list(row.modes),
            "quota_per_partner": row.quota_per_partner, "cron": row.cron,
            "next_rebuild_at": row.next_rebuild_at, "epoch": row.epoch, "version": row.version,
            "rows": row.rows, "built_at": row.built_at, "created_by": row.created_by,
            "created_at": row.created_at}


def get_service(db: Session, ref: str) -> PirServiceRow:
    """A service by id or name (:class:`NotFoundError` if none)."""
    row = db.scalars(select(PirServiceRow).where(
        (PirServiceRow.id == ref) | (PirServiceRow.name == ref))).first()
    if row is None:
        raise NotFoundError("no such PIR service", id=ref)
    return row


def list_services(rt: NodeRuntime) -> list[dict[str, Any]]:
    """Every published service, by name."""
    return repo.read(rt, lambda db: [service_view(s) for s in db.scalars(
        select(PirServiceRow).order_by(PirServiceRow.name))])


def _payloads(rt: NodeRuntime, dataset_name: str, id_column: str,
              columns: list[str]) -> tuple[list[str], list[bytes]]:
    dataset = repo.read(rt, lambda db: get_dataset(db, dataset_name))
    frame = reading.load_frame(dataset.kind, dataset.location, dataset.table, dataset.id_column)
    missing = [c for c in [id_column, *columns] if c not in frame.columns]
    if missing:
        raise InputError("the dataset has no such column", columns=missing)
    values = frame[columns].astype(str)
    payloads = [json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
                for row in values.itertuples(index=False, name=None)]
    return frame[id_column].astype(str).tolist(), payloads


def _sync(rt: NodeRuntime, table: PirTable, ids: list[str], payloads: list[bytes]) -> None:
    executor = ProcessExecutor(2) if len(ids) >= _PARALLEL_ROWS else None
    try:
        table.sync(ids, payloads, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown()


def publish(rt: NodeRuntime, actor: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Build a table from a registered dataset and publish it (see module docstring)."""
    name, columns = str(fields["name"]), [str(c) for c in fields["columns"]]
    # in the publisher's order: a consumer that names no mode gets the first
    modes = list(dict.fromkeys(fields.get("modes") or [PirMode.DOWNLOAD.value]))
    id_column = str(fields["id_column"])
    bucket_bits = int(fields.get("bucket_bits", 8))
    if not _NAME.match(name):
        raise InputError("a service name is 1-64 letters, digits, '_', '.' or '-'")
    if not columns or id_column in columns or len(set(columns)) != len(columns):
        raise InputError("choose distinct payload columns other than the ID column")
    if bad := [m for m in modes if m not in MODES]:
        raise InputError("unknown PIR mode", modes=bad, known=list(MODES))
    if not 0 <= bucket_bits <= MAX_BUCKET_BITS:
        raise InputError("bucket_bits out of range", bucket_bits=bucket_bits)
    quota = fields.get("quota_per_partner")
    cron = fields.get("cron")
    next_at = next_time(str(cron), utcnow()) if cron else None
    service_id = secrets.token_hex(8)
    dataset = str(fields["dataset"])

    def check(db: Session) -> None:
        if db.scalars(select(PirServiceRow.id).where(PirServiceRow.name == name)).first():
            raise ConflictError("a PIR service with this name exists", name=name)
        get_dataset(db, dataset)

    repo.read(rt, check)
    ids, payloads = _payloads(rt, dataset, id_column, columns)
    width = 16 * max(1, math.ceil((max(map(len, payloads), default=1) + 16) / 16))
    tables = rt.state(TABLES)
    with tables.build_lock:
        table = PirTable(TableSettings(f"{rt.name}/{name}", width, bucket_bits=bucket_bits,
                                       payload_format="json", columns=tuple(columns)),
                         folder(rt, service_id))
        _sync(rt, table, ids, payloads)

    def create(db: Session) -> dict[str, Any]:
        if db.scalars(select(PirServiceRow.id).where(PirServiceRow.name == name)).first():
            raise ConflictError("a PIR service with this name exists", name=name)
        now = utcnow()
        row = PirServiceRow(id=service_id, name=name, dataset=dataset, id_column=id_column,
                            columns=columns, modes=modes, quota_per_partner=quota,
                            cron=cron or None, next_rebuild_at=next_at, epoch=table.epoch,
                            version=table.version, rows=len(table), built_at=now,
                            created_by=actor, created_at=now)
        db.add(row)
        db.flush()
        emit(db, Event(EventKind.PIR_SERVICE_PUBLISHED, actor, f"pir_service:{row.id}",
                       {"name": name, "dataset": dataset, "columns": columns, "modes": modes,
                        "quota_per_partner": quota, "cron": row.cron, "rows": row.rows}))
        return service_view(row)

    view = repo.write(rt, create)
    tables.put(service_id, table)
    return view


def next_time(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that ``cron`` names (UTC; five fields, or six
    with seconds last, as ``croniter`` reads them)."""
    if not croniter.is_valid(cron):
        raise InputError("not a cron expression (five fields, or six with seconds last)",
                         field="cron")
    following: dt.datetime = croniter(cron, after.astimezone(dt.UTC)).get_next(dt.datetime)
    return following.astimezone(dt.UTC)


def rebuild(rt: NodeRuntime, actor: str, ref: str, *, rotate: bool) -> dict[str, Any]:
    """Sync a service's table with its dataset; ``rotate``: under a new key epoch."""
    row = repo.read(rt, lambda db: service_view(get_service(db, ref)))
    ids, payloads = _payloads(rt, row["dataset"], row["id_column"], row["columns"])
    tables = rt.state(TABLES)
    with tables.build_lock:
        table = PirTable.open(folder(rt, row["id"]))
        if rotate:
            table.rotate_key()
        _sync(rt, table, ids, payloads)

    def note(db: Session) -> dict[str, Any]:
        service = get_service(db, row["id"])
        service.epoch, service.version, service.rows = table.epoch, table.version, len(table)
        service.built_at = utcnow()
        emit(db, Event(EventKind.PIR_SERVICE_REBUILT, actor, f"pir_service:{service.id}",
                       {"rows": service.rows, "epoch": service.epoch,
                        "version": service.version, "rotated": rotate}))
        return service_view(service)

    view = repo.write(rt, note)
    tables.put(row["id"], table)
    return view


def withdraw(rt: NodeRuntime, actor: str, ref: str) -> dict[str, Any]:
    """Stop offering a service: partners' queries are refused from now on (no such service),
    its quotas and quota use go, its table folder (keys included) is deleted. Batch records on
    both sides stay, as the audit trail does; the name can be published again (a new key
    epoch, so no partner's cached copy is of any use)."""
    def remove(db: Session) -> dict[str, Any]:
        service = get_service(db, ref)
        view = service_view(service)
        for model in (PirQuotaRow, PirUsageRow):
            for row in db.scalars(select(model).where(model.service_id == service.id)):
                db.delete(row)
        db.delete(service)
        emit(db, Event(EventKind.PIR_SERVICE_WITHDRAWN, actor, f"pir_service:{service.id}",
                       {"name": service.name, "rows": service.rows, "epoch": service.epoch}))
        return view

    tables = rt.state(TABLES)
    with tables.build_lock:
        view = repo.write(rt, remove)
        tables.drop(view["id"])
        shutil.rmtree(folder(rt, view["id"]), ignore_errors=True)
    return view


def set_schedule(rt: NodeRuntime, actor: str, ref: str, cron: str | None) -> dict[str, Any]:
    """Rebuild the service under a new epoch at every time ``cron`` names (``None``: never)."""
    next_at = next_time(cron, utcnow()) if cron else None

    def put(db: Session) -> dict[str, Any]:
        service = get_service(db, ref)
        service.cron, service.next_rebuild_at = cron or None, next_at
        emit(db, Event(EventKind.PIR_SCHEDULE_CHANGED, actor, f"pir_service:{service.id}",
                       {"name": service.name, "cron": service.cron}))
        return service_view(service)

    return repo.write(rt, put)


def quota_view(row: PirQuotaRow) -> dict[str, Any]:
    """A quota as the API shows it."""
    return {"partner": row.partner, "api_key": row.api_key, "max_queries": row.max_queries}


def set_quota(rt: NodeRuntime, actor: str, ref: str, *, partner: str, max_queries: int,
              api_key: str | None = None) -> dict[str, Any]:
    """Padded queries per epoch for ``partner`` (or one of its API keys) on a service."""
    if max_queries < 0:
        raise InputError("a quota is a number of queries >= 0")
    key = api_key or ALL_KEYS

    def put(db: Session) -> dict[str, Any]:
        service = get_service(db, ref)
        get_partner(db, partner)
        row = db.scalars(select(PirQuotaRow).where(
            PirQuotaRow.service_id == service.id, PirQuotaRow.partner == partner,
            PirQuotaRow.api_key == key)).first()
        if row is None:
            row = PirQuotaRow(service_id=service.id, partner=partner, api_key=key,
                              max_queries=max_queries)
            db.add(row)
        row.max_queries = max_queries
        db.flush()
        emit(db, Event(EventKind.PIR_QUOTA_SET, actor, f"pir_service:{service.id}",
                       {"partner": partner, "api_key": key, "max_queries": max_queries}))
        return quota_view(row)

    return repo.write(rt, put)


def usage(rt: NodeRuntime, ref: str) -> list[dict[str, Any]]:
    """Quota use in the service's current epoch, per partner and API key, with the quotas."""
    def read(db: Session) -> list[dict[str, Any]]:
        service = get_service(db, ref)
        quotas = {(q.partner, q.api_key): q.max_queries for q in db.scalars(
            select(PirQuotaRow).where(PirQuotaRow.service_id == service.id))}
        used = db.scalars(select(PirUsageRow).where(PirUsageRow.service_id == service.id,
                                                   PirUsageRow.epoch == service.epoch))
        return [{"partner": u.partner, "api_key": u.api_key, "epoch": u.epoch, "used": u.used,
                 "max_queries": quotas.get((u.partner, u.api_key))} for u in used]

    return repo.read(rt, read)
