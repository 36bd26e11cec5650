"""Append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's canonical JSON
(sorted keys, no whitespace), the construction of a hash chain as in Crosby & Wallach,
"Efficient Data Structures for Tamper-Evident Logging" (USENIX Security 2009). Editing or
deleting any entry breaks the chain at that entry or the next one; :func:`verify` names the first
bad entry. Truncating the newest entries is only detectable against a copy of the head hash kept
elsewhere, which is what the co-signed ledger of a later issue provides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.node.db.models import AuditEvent
from coalition.node.db.types import utcnow

__all__ = ["GENESIS", "VerifyResult", "append", "entry_hash", "iter_events", "list_events", "verify"]

GENESIS = "0" * 64
_BATCH = 500


def entry_hash(prev_hash: str, *, seq: int, at: dt.datetime, kind: str, actor: str,
               subject: str, details: Any) -> str:
    """The chained hash of one entry."""
    body = json.dumps(
        {"seq": seq, "at": at.astimezone(dt.UTC).isoformat(), "kind": kind, "actor": actor,
         "subject": subject, "details": details},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(session: Session, kind: str, actor: str, subject: str,
           details: dict[str, Any]) -> AuditEvent:
    """Add one entry after the current head (row-locked on databases that support it).

    Two writers racing for the same ``seq`` fail on its primary key instead of forking the chain.
    """
    head = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1).with_for_update()
    ).first()
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS if head is None else head.hash
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))  # exactly what the DB returns
    row = AuditEvent(
        seq=seq, at=at, kind=kind, actor=actor, subject=subject, details=details, prev_hash=prev,
        hash=entry_hash(prev, seq=seq, at=at, kind=kind, actor=actor, subject=subject,
                        details=details),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad`` is the seq of the first broken entry."""

    ok: bool
    checked: int
    head: str
    first_bad: int | None = None
    reason: str = ""


def iter_events(session: Session, after: int = 0) -> Iterator[AuditEvent]:
    """All entries with ``seq > after`` in order, fetched in batches."""
    cursor = after
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > cursor).order_by(AuditEvent.seq).limit(_BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        cursor = rows[-1].seq


def verify(session: Session) -> VerifyResult:
    """Recompute the chain; stop at the first entry that is missing, edited or re-linked."""
    prev, expected, checked = GENESIS, 1, 0
    for row in iter_events(session):
        if row.seq != expected:
            return VerifyResult(False, checked, prev, expected, f"entry {expected} is missing")
        if row.prev_hash != prev:
            return VerifyResult(False, checked, prev, row.seq, "link to the previous entry is broken")
        recomputed = entry_hash(prev, seq=row.seq, at=row.at, kind=row.kind, actor=row.actor,
                                subject=row.subject, details=row.details)
        if recomputed != row.hash:
            return VerifyResult(False, checked, prev, row.seq, "entry content does not match its hash")
        prev, expected, checked = row.hash, expected + 1, checked + 1
    return VerifyResult(True, checked, prev)


def list_events(session: Session, *, after: int = 0, limit: int = 100,
                kind: str | None = None) -> list[AuditEvent]:
    """A page of entries, oldest first, optionally of one kind."""
    query = select(AuditEvent).where(AuditEvent.seq > after)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    return list(session.scalars(query.order_by(AuditEvent.seq).limit(limit)).all())
