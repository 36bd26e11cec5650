"""Reading and writing the ledger tables inside the caller's transaction.

Every function takes a :class:`~sqlalchemy.orm.Session` and never commits; writers take the
``ledger`` lock (:func:`~coalition.node.db.engine.serialise`) first so sequence numbers are
assigned one writer at a time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.core.errors import CryptoError
from coalition.crypto.checkpoint import Checkpoint
from coalition.crypto.signing import VerifyKey
from coalition.crypto.suite import CryptoSuite, digest_alg
from coalition.node.db.types import utcnow
from coalition.node.ledger.entries import Entry
from coalition.node.ledger.errors import LedgerAlertOpen, LedgerTampered
from coalition.node.ledger.tables import (
    LedgerAlertRow,
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerKeyRow,
)

__all__ = ["ORIGIN_PREFIX", "alg_of", "append", "b64", "checkpoint_of", "entries", "entry_of",
           "head", "leaves", "operator_of", "origin_of", "pin_key", "pinned_key",
           "refuse_if_alerted", "size", "unb64", "verify_key"]

ORIGIN_PREFIX = "coalition.ledger/"


def origin_of(org: str, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> str:
    """The name of the log ``org`` operates in the crypto suite ``suite`` (the checkpoint's
    origin line): ``coalition.ledger/<org>`` for the SHA-256 log (RFC 9162), and
    ``coalition.ledger/<org>/sm3`` for the SM3 log of an ``sm`` federation. A log never
    changes its tree hash, so a node that changes suites starts the other log and keeps
    (and verifies) the old one."""
    alg = digest_alg(suite)
    return ORIGIN_PREFIX + org + ("" if alg == "sha256" else f"/{alg}")


def alg_of(origin: str) -> str:
    """The tree hash of the log ``origin`` names (:func:`origin_of`)."""
    _, sep, alg = origin.removeprefix(ORIGIN_PREFIX).partition("/")
    return alg if sep else "sha256"


def operator_of(origin: str) -> str:
    """The organisation operating the log ``origin``."""
    return origin.removeprefix(ORIGIN_PREFIX).partition("/")[0]


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Decode base64; malformed text raises :class:`CryptoError`."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("malformed base64 in a ledger record") from exc


def verify_key(text: str) -> VerifyKey:
    """An Ed25519 public key from base64."""
    return VerifyKey(unb64(text))


def entry_of(row: LedgerEntryRow) -> Entry:
    """The signed record a stored row holds."""
    return Entry(row.kind, row.producer, row.body, unb64(row.signature))


def entries(db: Session, origin: str, *, start: int = 0, stop: int | None = None,
            job: str | None = None, limit: int | None = None) -> list[LedgerEntryRow]:
    """Stored entries of ``origin`` with ``start <= seq < stop``, by sequence number."""
    query = select(LedgerEntryRow).where(LedgerEntryRow.origin == origin,
                                         LedgerEntryRow.seq >= start)
    if stop is not None:
        query = query.where(LedgerEntryRow.seq < stop)
    if job is not None:
        query = query.where(LedgerEntryRow.job_id == job)
    query = query.order_by(LedgerEntryRow.seq)
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def leaves(db: Session, origin: str) -> list[bytes]:
    """The leaf hashes of ``origin`` in order (its tree hash), recomputed from the stored
    records (never the stored ``leaf`` column, so an edited record changes the tree instead of
    hiding in it)."""
    alg = alg_of(origin)
    return [entry_of(row).leaf(alg) for row in entries(db, origin)]


def size(db: Session, origin: str) -> int:
    """How many entries of ``origin`` are stored here."""
    return int(db.scalar(select(func.count()).select_from(LedgerEntryRow)
                         .where(LedgerEntryRow.origin == origin)) or 0)


def has_leaf(db: Session, origin: str, leaf: bytes) -> bool:
    """Whether ``origin`` already holds an entry with this leaf hash."""
    return db.scalar(select(LedgerEntryRow.id).where(
        LedgerEntryRow.origin == origin, LedgerEntryRow.leaf == leaf.hex()).limit(1)) is not None


def append(db: Session, origin: str, entry: Entry, producer_key: str,
           job_id: str | None) -> LedgerEntryRow:
    """Store ``entry`` as the next leaf of ``origin`` (the caller holds the ``ledger`` lock)."""
    row = LedgerEntryRow(origin=origin, seq=size(db, origin), kind=entry.kind,
                         producer=entry.producer, job_id=job_id, body=dict(entry.body),
                         signature=b64(entry.signature), producer_key=producer_key,
                         leaf=entry.leaf(alg_of(origin)).hex(), created_at=utcnow())
    db.add(row)
    db.flush()
    return row


def head(db: Session, origin: str, role: str) -> LedgerCheckpointRow | None:
    """The newest checkpoint of ``origin`` this node signed (``operator``) or co-signed
    (``witness``)."""
    return db.scalars(select(LedgerCheckpointRow).where(
        LedgerCheckpointRow.origin == origin, LedgerCheckpointRow.role == role)
        .order_by(LedgerCheckpointRow.size.desc(), LedgerCheckpointRow.id.desc()).limit(1)).first()


def checkpoints(db: Session, origin: str | None = None) -> list[LedgerCheckpointRow]:
    """Every stored checkpoint (of ``origin``), newest first."""
    query = select(LedgerCheckpointRow)
    if origin is not None:
        query = query.where(LedgerCheckpointRow.origin == origin)
    return list(db.scalars(query.order_by(LedgerCheckpointRow.id.desc())))


def checkpoint_of(row: LedgerCheckpointRow) -> Checkpoint:
    """The signed body a stored checkpoint row holds (its tree hash is its log's)."""
    return Checkpoint(row.origin, row.size, bytes.fromhex(row.root), alg_of(row.origin))


def origins(db: Session) -> list[str]:
    """Every log this node holds entries or checkpoints of."""
    found = set(db.scalars(select(LedgerEntryRow.origin).distinct()))
    found |= set(db.scalars(select(LedgerCheckpointRow.origin).distinct()))
    return sorted(found)


def pinned_key(db: Session, org: str) -> str | None:
    """The ledger key pinned for ``org``, if any."""
    row = db.get(LedgerKeyRow, org)
    return None if row is None else row.key


def pin_key(db: Session, org: str, key: str) -> None:
    """Pin ``org``'s ledger key on first sight; a different key later raises
    :class:`LedgerTampered` (the caller records the alert in its own transaction)."""
    row = db.get(LedgerKeyRow, org)
    if row is None:
        verify_key(key)  # well-formed before it is pinned
        db.add(LedgerKeyRow(org=org, key=key, pinned_at=utcnow()))
        db.flush()
    elif row.key != key:
        raise LedgerTampered("an organisation presented a ledger key other than the pinned one",
                             org=org)


def open_alerts(db: Session, orgs: Iterable[str]) -> list[LedgerAlertRow]:
    """Unacknowledged alerts about any of ``orgs``."""
    wanted = sorted(set(orgs))
    return list(db.scalars(select(LedgerAlertRow).where(
        LedgerAlertRow.operator.in_(wanted), LedgerAlertRow.acknowledged_at.is_(None))))


def refuse_if_alerted(db: Session, orgs: Sequence[str]) -> None:
    """Raise :class:`LedgerAlertOpen` while an alert about one of ``orgs`` is unacknowledged:
    the trust decision this node makes from its own records before any new job."""
    alerts = open_alerts(db, orgs)
    if alerts:
        raise LedgerAlertOpen(
            "a federation-log alert about an organisation of this job is not acknowledged; "
            "an admin reviews it first (coalition ledger alerts)",
            orgs=sorted({a.operator for a in alerts}), alerts=[a.id for a in alerts])


def alert_view(row: LedgerAlertRow) -> dict[str, Any]:
    """An alert as the API shows it."""
    return {"id": row.id, "operator": row.operator, "kind": row.kind, "message": row.message,
            "evidence": row.evidence, "created_at": row.created_at.isoformat(),
            "acknowledged_by": row.acknowledged_by,
            "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
            "reason": row.reason}
