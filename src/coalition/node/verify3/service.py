"""Verification services: publish and rebuild (provider), answer a partner (provider, called by
:mod:`.peer`), query a partner (consumer), list services and batch records.

The provider's trust decisions (grant, epoch, batch size, quota) are made in
:func:`admit_batch` and :func:`check_access` from this node's own rows, before any evaluation.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConflictError, InputError, NotFoundError, ProtocolError
from coalition.crypto.oprf_suite import oprf_for
from coalition.engine.policy import PolicyError, Violation
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset
from coalition.node.db.engine import serialise
from coalition.node.db.types import utcnow
from coalition.node.partners.directory import get_partner
from coalition.node.partners.grants import check_grant
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot
from coalition.node.verify3.metrics import VERIFY3_METRICS
from coalition.node.verify3.peer_methods import (
    MAX_ELEMENTS_PER_CALL,
    PAGE_ROWS,
    VERIFY3_EVALUATE,
    VERIFY3_MANIFEST,
    VERIFY3_TABLE,
    EvaluateRequest,
    ServiceRef,
    TableRequest,
)
from coalition.node.verify3.tables import Verify3BatchRow, Verify3ServiceRow
from coalition.protocols.pir.spec import QuotaExceededError
from coalition.protocols.verify3 import (
    Manifest,
    VerificationTable,
    Verify3Params,
    check_batch,
    finish,
    prepare,
)
from coalition.protocols.verify3.bank import check_table
from coalition.protocols.verify3.spec import ELEMENTS_PER_TRIPLE, TAG_BYTES

__all__ = ["COMPONENT_KIND", "TABLES", "admit_batch", "b64", "check_access", "list_batches",
           "list_services", "publish", "query", "rebuild", "service_view", "table_of", "unb64",
           "withdraw"]

#: The component kind a grant must name for a partner to query a service on the dataset.
COMPONENT_KIND = "verify3"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TRIPLES_PER_CALL = MAX_ELEMENTS_PER_CALL // ELEMENTS_PER_TRIPLE


class _Tables:
    """Loaded tables by (service, epoch): one disk read per epoch, not per call."""

    def __init__(self, rt: NodeRuntime) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[tuple[str, str], VerificationTable] = {}


TABLES: Slot[_Tables] = Slot("verify3.tables", _Tables)


def b64(data: bytes) -> str:
    """Base64 text of bytes (elements and tags on the peer wire)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, rows: int, width: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """``(rows, width)`` bytes from base64; :class:`InputError` if it is not exactly that."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError as exc:
        raise InputError("elements are not base64") from exc
    if len(raw) != rows * width:
        raise InputError("elements have the wrong length", expected=rows * width, got=len(raw))
    return np.frombuffer(raw, dtype=np.uint8).reshape(rows, width).copy()


def _folder(rt: NodeRuntime, name: str) -> Path:
    return Path(rt.settings.home) / "verify3" / name


def service_view(row: Verify3ServiceRow) -> dict[str, Any]:
    """A service as the API shows it (no key, no tag)."""
    return {"name": row.name, "dataset": row.dataset, "phone_column": row.phone_column,
            "name_column": row.name_column, "id_number_column": row.id_number_column,
            "phone_country": row.phone_country, "suite": row.suite, "epoch": row.epoch,
            "rows": row.rows, "quota": row.quota, "created_by": row.created_by,
            "built_at": row.built_at}


def _records(rt: NodeRuntime, dataset: str, cols: list[str]) -> list[tuple[Any, ...]]:
    with rt.db.session() as db:
        ds = get_dataset(db, dataset)
        kind, location, table, id_column = ds.kind, ds.location, ds.table, ds.id_column
    if kind == "csv":  # every column as text: phone and ID numbers keep their leading zeros
        try:
            frame = pd.read_csv(location, dtype=str, keep_default_na=False, encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise InputError("the dataset could not be read", dataset=dataset) from exc
    else:
        frame = reading.load_frame(kind, location, table, id_column)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError("columns missing from the dataset", dataset=dataset, columns=missing)
    return list(frame[cols].astype(str).itertuples(index=False, name=None))


def publish(rt: NodeRuntime, actor: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Build (or rebuild, with a new key: a new epoch) the table of service ``fields["name"]``
    from a registered dataset, in this node's crypto suite."""
    name = str(fields["name"])
    if not _NAME.match(name):
        raise InputError("a service name is 1-64 letters, digits, '_', '.' or '-'")
    cols = [str(fields["phone_column"]), str(fields["name_column"]),
            str(fields["id_number_column"])]
    country = str(fields.get("phone_country") or "")
    suite = rt.settings.crypto_suite
    table = VerificationTable.build(_records(rt, str(fields["dataset"]), cols), suite=suite,
                                    country=country)
    folder = _folder(rt, name)
    staging = folder.with_name(f".{name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    table.save(staging)

    def store(db: Session) -> dict[str, Any]:
        serialise(db, "verify3")
        get_dataset(db, str(fields["dataset"]))
        row = db.get(Verify3ServiceRow, name)
        if row is None:
            row = Verify3ServiceRow(name=name, created_by=actor)
            db.add(row)
        row.dataset, row.phone_column, row.name_column, row.id_number_column = (
            str(fields["dataset"]), *cols)
        row.phone_country, row.suite, row.epoch, row.rows = country, suite.value, \
            table.epoch, table.rows
        row.quota = None if fields.get("quota") is None else int(fields["quota"])
        row.built_at = utcnow()
        db.flush()
        emit(db, Event(EventKind.VERIFY3_PUBLISHED, actor, f"verify3:{name}",
                       {"dataset": row.dataset, "rows": row.rows, "epoch": row.epoch,
                        "suite": row.suite, "quota": row.quota}))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        return service_view(row)

    with rt.db.session() as db:
        return store(db)


def rebuild(rt: NodeRuntime, actor: str, name: str) -> dict[str, Any]:
    """A new epoch of ``name`` from its dataset as it is now (fresh key; quotas restart)."""
    with rt.db.session() as db:
        row = _service(db, name)
        fields = {**service_view(row)}
    return publish(rt, actor, fields)


def withdraw(rt: NodeRuntime, actor: str, name: str) -> dict[str, Any]:
    """Stop offering ``name``: partners' batches are refused from now on (no such service),
    its tags and key are deleted; batch records stay, as the audit trail does."""
    with rt.db.session() as db:
        serialise(db, "verify3")
        row = _service(db, name)
        view = service_view(row)
        db.delete(row)
        emit(db, Event(EventKind.VERIFY3_WITHDRAWN, actor, f"verify3:{name}",
                       {"rows": view["rows"], "epoch": view["epoch"]}))
    cache = rt.state(TABLES)
    with cache.lock:
        cache.by_key = {k: v for k, v in cache.by_key.items() if k[0] != name}
    shutil.rmtree(_folder(rt, name), ignore_errors=True)
    return view


def _service(db: Session, name: str) -> Verify3ServiceRow:
    row = db.get(Verify3ServiceRow, name)
    if row is None:
        raise NotFoundError("no such verification service", name=name)
    return row


def list_services(rt: NodeRuntime) -> list[dict[str, Any]]:
    """Every published service."""
    with rt.db.session() as db:
        return [service_view(r) for r in db.scalars(select(Verify3ServiceRow).order_by(
            Verify3ServiceRow.name))]


def table_of(rt: NodeRuntime, row: Verify3ServiceRow) -> VerificationTable:
    """The loaded table of the service's current epoch."""
    cache = rt.state(TABLES)
    with cache.lock:
        table = cache.by_key.get((row.name, row.epoch))
        if table is None:
            table = VerificationTable.load(_folder(rt, row.name))
            if table.epoch != row.epoch:
                raise ConflictError("the service is being rebuilt; ask again", service=row.name)
            cache.by_key = {k: v for k, v in cache.by_key.items() if k[0] != row.name}
            cache.by_key[(row.name, row.epoch)] = table
        return table


def _refuse(rt: NodeRuntime, partner: str, service: str, reason: str) -> None:
    with rt.db.session() as db:
        emit(db, Event(EventKind.VERIFY3_REFUSED, f"partner:{partner}", f"verify3:{service}",
                       {"reason": reason}))


def check_access(rt: NodeRuntime, partner: str, service: str) -> Verify3ServiceRow:
    """The service row, if ``partner`` holds an approved grant for ``verify3`` on its dataset
    (:class:`AuthError` otherwise, audited as a refusal)."""
    try:
        with rt.db.session() as db:
            row = _service(db, service)
            check_grant(db, partner, row.dataset, COMPONENT_KIND)
            db.expunge(row)
            return row
    except (AuthError, NotFoundError):
        rt.state(VERIFY3_METRICS).record("served", "refused", 0)
        _refuse(rt, partner, service, "no grant")
        raise AuthError("no approved grant lets this partner use the verification service",
                        service=service) from None


def admit_batch(rt: NodeRuntime, partner: str,
                request: EvaluateRequest) -> tuple[VerificationTable, np.ndarray[Any, Any]]:
    """Grant, epoch, batch size and encoding, then charge the quota and record the batch: all
    before any evaluation. Returns the table and the decoded elements; a refusal (typed)
    counts nothing."""
    row = check_access(rt, partner, request.service)
    if request.epoch != row.epoch:
        raise ConflictError("the service has a new epoch; fetch its manifest again",
                            service=row.name)
    try:
        check_batch(request.count)
    except ProtocolError as exc:
        raise InputError("a batch holds three elements per triple", count=request.count) \
            from exc
    table = table_of(rt, row)
    blinded = unb64(request.elements, request.count, table.element_bytes)
    with rt.db.session() as db:
        serialise(db, "verify3")
        used = int(db.scalar(select(func.coalesce(func.sum(Verify3BatchRow.elements), 0)).where(
            Verify3BatchRow.side == "served", Verify3BatchRow.partner == partner,
            Verify3BatchRow.service == row.name, Verify3BatchRow.epoch == row.epoch)) or 0)
        limit = row.quota
        refused = limit is not None and used + request.count > limit
        if not refused:
            db.add(Verify3BatchRow(side="served", partner=partner, service=row.name,
                                   epoch=row.epoch, elements=request.count, triples=None,
                                   actor=f"partner:{partner}", at=utcnow()))
            emit(db, Event(EventKind.VERIFY3_BATCH, f"partner:{partner}", f"verify3:{row.name}",
                           {"side": "served", "elements": request.count, "epoch": row.epoch}))
    rt.state(VERIFY3_METRICS).record("served", "refused" if refused else "ok",
                                     0 if refused else request.count)
    if refused and limit is not None:
        _refuse(rt, partner, row.name, "quota")
        raise QuotaExceededError(
            f"verification quota exceeded for {partner}: {request.count} evaluations asked, "
            f"{max(0, limit - used)} of {limit} left in this epoch",
            limit=limit, used=used, requested=request.count)
    return table, blinded


# -- consumer ---------------------------------------------------------------------------------

def _cache_folder(rt: NodeRuntime, partner: str, service: str) -> Path:
    return Path(rt.settings.home) / "verify3-cache" / partner / service


def _tags(rt: NodeRuntime, partner: str, service: str, m: Manifest) -> np.ndarray[Any, Any]:
    folder = _cache_folder(rt, partner, service)
    try:
        cached = json.loads((folder / "manifest.json").read_text())
        if cached.get("digest") == m.digest:
            return check_table(m, np.load(folder / "tags.npy", allow_pickle=False))
    except (OSError, ValueError):
        pass
    total = m.rows * ELEMENTS_PER_TRIPLE
    parts: list[np.ndarray[Any, Any]] = []
    offset = 0
    while offset < total or not parts:
        page = rt.peers.call(partner, VERIFY3_TABLE, TableRequest(
            service=service, epoch=m.epoch, offset=offset))
        n = min(PAGE_ROWS, total - offset)
        if page.offset != offset or page.total != total:
            raise ProtocolError("partner sent the wrong table page", partner=partner)
        parts.append(unb64(page.tags, n, TAG_BYTES))
        offset += n
    tags = check_table(m, np.concatenate(parts))
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "tags.npy", tags, allow_pickle=False)
    (folder / "manifest.json").write_text(json.dumps(m.to_wire()))
    return tags


def query(rt: NodeRuntime, actor: str, partner: str, service: str,
          triples: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Verify ``triples`` (phone, name, ID number) against ``partner``'s service: per triple
    ``phone_found``, ``name_match``, ``id_match``, in order."""
    started = time.perf_counter()
    if not triples:
        raise InputError("no triples to verify")
    if any(len(t) != ELEMENTS_PER_TRIPLE for t in triples):
        raise InputError("each entry is [phone, name, id_number]")
    with rt.db.session() as db:
        get_partner(db, partner)
    raw = rt.peers.call(partner, VERIFY3_MANIFEST, ServiceRef(service=service))
    m = Manifest.from_wire(raw.model_dump(exclude={"phone_country"}))
    suite = rt.settings.crypto_suite
    if m.suite != suite.value:
        raise PolicyError([Violation("policy.crypto_suite", service,
                                     f"the federation runs the {suite.value} crypto suite")])
    params = Verify3Params(suite=suite, phone_country=raw.phone_country)
    tags = _tags(rt, partner, service, m)
    width = oprf_for(suite).element_bytes
    flags, elements = [], 0
    for start in range(0, len(triples), _TRIPLES_PER_CALL):
        chunk = [tuple(t) for t in triples[start:start + _TRIPLES_PER_CALL]]
        q = prepare(chunk, params)
        answer = rt.peers.call(partner, VERIFY3_EVALUATE, EvaluateRequest(
            service=service, epoch=m.epoch, count=q.padded, elements=b64(q.blinded.tobytes())))
        flags.extend(finish(q, params, m, tags, unb64(answer.elements, q.padded, width)))
        elements += q.padded
    rt.state(VERIFY3_METRICS).record("queried", "ok", elements)
    with rt.db.session() as db:
        db.add(Verify3BatchRow(side="queried", partner=partner, service=service, epoch=m.epoch,
                               elements=elements, triples=len(triples), actor=actor, at=utcnow()))
        emit(db, Event(EventKind.VERIFY3_BATCH, actor, f"verify3:{partner}/{service}",
                       {"side": "queried", "elements": elements, "triples": len(triples),
                        "epoch": m.epoch}))
    return {"results": [{"phone_found": f.phone_found, "name_match": f.name_match,
                         "id_match": f.id_match} for f in flags],
            "summary": {"partner": partner, "service": service, "epoch": m.epoch,
                        "triples": len(triples), "elements": elements, "telco_rows": m.rows,
                        "seconds": round(time.perf_counter() - started, 4)}}


def list_batches(rt: NodeRuntime, *, side: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
    """Batch records on this node, newest first (counts only)."""
    stmt = select(Verify3BatchRow).order_by(Verify3BatchRow.id.desc()).limit(limit)
    if side is not None:
        stmt = stmt.where(Verify3BatchRow.side == side)
    with rt.db.session() as db:
        return [{"id": r.id, "side": r.side, "partner": r.partner, "service": r.service,
                 "epoch": r.epoch, "elements": r.elements, "triples": r.triples,
                 "actor": r.actor, "at": r.at} for r in db.scalars(stmt)]
