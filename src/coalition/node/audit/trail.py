"""Append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's canonical JSON
(sorted keys, no whitespace), the construction of a hash chain as in Crosby & Wallach,
"Efficient Data Structures for Tamper-Evident Logging" (USENIX Security 2009). Editing or
deleting any entry breaks the chain at that entry or the next one; :func:`verify` names the first
bad entry.

A plain hash chain stops nobody who can write the database: delete a row and recompute every
later hash. So each entry also carries ``mac = HMAC-SHA256(k, hash)`` under a key kept in a file
outside the database, and the node signs checkpoints of the head with its Ed25519 key
(:mod:`coalition.node.audit.seal`). :func:`verify` checks the chain, every MAC, and that the
latest signed checkpoint names an entry that is still there with the same hash.

**Crypto suite.** Each entry records its algorithm (``alg``): ``sha256`` (SHA-256 chain,
HMAC-SHA256; also every entry written before ``alg`` existed, stored NULL) or ``sm3`` (SM3 chain,
GB/T 32905, and HMAC-SM3), the hash of the node's crypto suite when the entry was written. So a
node switched to ``sm`` keeps verifying its older entries, and an entry's algorithm cannot be
changed without changing its hash. Checkpoints record the suite of their signature.

Chains written before the key existed (``mac`` NULL) are accepted only as a prefix that ends
with one keyed ``audit.reanchored`` entry: that entry's hash commits to the old head, so the old
entries cannot be changed afterwards either; they were only as safe as the database until then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coalition.core.errors import CoalitionError, ConfigError
from coalition.crypto.sm.sm3 import sm3
from coalition.node.audit.seal import ALGORITHMS, AuditSeal, Checkpoint
from coalition.node.audit.tables import AuditEvent
from coalition.node.db.engine import serialise
from coalition.node.db.types import utcnow

__all__ = [
    "GENESIS",
    "REANCHORED",
    "SEAL_INFO",
    "event_dict",
    "VerifyResult",
    "append",
    "entry_hash",
    "iter_events",
    "list_events",
    "seal_of",
    "verify",
]

log = logging.getLogger("coalition.node.audit")
GENESIS = "0" * 64
REANCHORED = "audit.reanchored"
SEAL_INFO = "audit_seal"  # key of the :class:`AuditSeal` in ``Session.info``
_HEAD_INFO = "audit_head"
_BATCH = 500


def seal_of(session: Session) -> AuditSeal:
    """The seal the session's database was opened with; entries are never written without it."""
    seal = session.info.get(SEAL_INFO)
    if not isinstance(seal, AuditSeal):
        raise ConfigError("audit key not configured for this database")
    return seal


def _after_commit(session: Session) -> None:
    head = session.info.pop(_HEAD_INFO, None)
    if head is None:
        return
    try:
        seal_of(session).committed(*head)
    except OSError as exc:  # the change is committed; a missed checkpoint only widens the window
        log.error("cannot write the audit checkpoint: %s", exc)


def _after_rollback(session: Session) -> None:
    session.info.pop(_HEAD_INFO, None)


def entry_hash(prev_hash: str, *, seq: int, at: dt.datetime, kind: str, actor: str,
               subject: str, details: Any, alg: str = "sha256") -> str:
    """The chained hash of one entry, SHA-256 or SM3 (``alg``), lowercase hex (public; its MAC
    is what needs the key)."""
    body = json.dumps(
        {"seq": seq, "at": at.astimezone(dt.UTC).isoformat(), "kind": kind, "actor": actor,
         "subject": subject, "details": details},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    data = f"{prev_hash}\n{body}".encode()
    if alg == "sm3":
        return sm3(data).hex()
    if alg != "sha256":
        raise ConfigError("unknown audit hash algorithm", alg=alg)
    return hashlib.sha256(data).hexdigest()


def append(session: Session, kind: str, actor: str, subject: str,
           details: dict[str, Any]) -> AuditEvent:
    """Add one entry after the current head, holding the ``audit`` writer lock to commit.

    Writers in any thread or process append one after the other (:func:`serialise`: an
    advisory lock on PostgreSQL, the write lock on SQLite), so each reads the head the previous
    one committed; were that ever bypassed, two writers racing for the same ``seq`` would fail
    on its primary key instead of forking the chain.
    The entry is MAC'd at once; a checkpoint is considered only after the transaction commits, so
    a rolled-back entry is never signed.
    """
    seal = seal_of(session)
    serialise(session, "audit")
    head = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1).with_for_update()
    ).first()
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS if head is None else head.hash
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))  # exactly what the DB returns
    alg = seal.algorithm
    digest = entry_hash(prev, seq=seq, at=at, kind=kind, actor=actor, subject=subject,
                        details=details, alg=alg)
    row = AuditEvent(seq=seq, at=at, kind=kind, actor=actor, subject=subject, details=details,
                     prev_hash=prev, hash=digest, mac=seal.mac(digest, alg), alg=alg)
    session.add(row)
    session.flush()
    if _HEAD_INFO not in session.info:
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_rollback", _after_rollback, once=True)
    session.info[_HEAD_INFO] = (seq, digest)
    return row


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad`` is the seq of the first broken entry.

    ``checkpoint`` is the seq covered by the latest valid signed checkpoint; ``legacy`` counts
    the entries written before the chain was keyed.
    """

    ok: bool
    checked: int
    head: str
    first_bad: int | None = None
    reason: str = ""
    checkpoint: int | None = None
    legacy: int = 0
    stage: str = ""  # "chain" or "checkpoint": which check failed


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


def verify(session: Session, seal: AuditSeal | None = None) -> VerifyResult:
    """Recompute the chain and its MACs, then hold it against the latest signed checkpoint.

    Stops at the first entry that is missing, edited, re-linked or not MAC'd under the key; then
    reports a trail that ends before the checkpoint (truncated) or whose entry at the checkpoint
    has another hash (rewritten).
    """
    seal = seal or seal_of(session)
    prev, expected, checked, legacy, keyed = GENESIS, 1, 0, 0, False
    try:
        cp = seal.read_checkpoint()
    except CoalitionError:
        cp, cp_error = None, "the checkpoint file is unreadable or its signature is not the node's"
    else:
        cp_error = ""
    at_cp: str | None = None

    def bad(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, prev, seq, reason, cp.seq if cp else None, legacy,
                            "chain")

    for row in iter_events(session):
        if row.seq != expected:
            return bad(expected, f"entry {expected} is missing")
        if row.prev_hash != prev:
            return bad(row.seq, "link to the previous entry is broken")
        alg = row.alg or "sha256"  # NULL: written before the algorithm was recorded
        if alg not in ALGORITHMS:
            return bad(row.seq, "entry names an unknown hash algorithm")
        recomputed = entry_hash(prev, seq=row.seq, at=row.at, kind=row.kind, actor=row.actor,
                                subject=row.subject, details=row.details, alg=alg)
        if recomputed != row.hash:
            return bad(row.seq, "entry content does not match its hash")
        if row.mac is None and not keyed:
            legacy += 1  # written before the chain was keyed; only a re-anchor may end this
        elif not seal.mac_ok(row.hash, row.mac, alg):
            return bad(row.seq, "entry MAC does not match: not written with this node's audit key")
        elif not keyed:
            keyed = True
            if legacy and not _reanchors(row, legacy, prev):
                return bad(row.seq, "unkeyed entries are not closed by a re-anchor entry")
        if cp is not None and row.seq == cp.seq:
            at_cp = row.hash
        prev, expected, checked = row.hash, expected + 1, checked + 1
    return _against_checkpoint(checked, prev, legacy=legacy, keyed=keyed, cp=cp, cp_error=cp_error,
                               at_cp=at_cp)


def _reanchors(row: AuditEvent, legacy: int, prev: str) -> bool:
    details = row.details or {}
    return (row.kind == REANCHORED and details.get("legacy_entries") == legacy
            and details.get("legacy_head") == prev)


def _against_checkpoint(checked: int, head: str, *, legacy: int, keyed: bool,
                        cp: Checkpoint | None, cp_error: str, at_cp: str | None) -> VerifyResult:
    def fail(seq: int | None, why: str) -> VerifyResult:
        return VerifyResult(False, checked, head, seq, why, cp.seq if cp else None, legacy,
                            "checkpoint")

    if cp_error:
        return fail(None, cp_error)
    if checked and not keyed:
        return fail(1, "no entry is MAC'd under the audit key: the chain was rewritten or the "
                       "key replaced")
    if checked and cp is None:
        return fail(None, "no signed checkpoint: the checkpoint file is missing")
    if cp is not None and cp.seq > checked:
        return fail(checked + 1, f"entries {checked + 1}..{cp.seq} are missing: the trail was "
                                 "truncated before a signed checkpoint")
    if cp is not None and at_cp != cp.head:
        return fail(cp.seq, "entry does not match the signed checkpoint")
    return VerifyResult(True, checked, head, None, "", cp.seq if cp else None, legacy)


def list_events(session: Session, *, after: int = 0, limit: int = 100,
                kind: str | None = None) -> list[AuditEvent]:
    """A page of entries, oldest first, optionally of one kind."""
    query = select(AuditEvent).where(AuditEvent.seq > after)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    return list(session.scalars(query.order_by(AuditEvent.seq).limit(limit)).all())


def event_dict(row: AuditEvent) -> dict[str, Any]:
    """An entry as plain JSON values (the export format)."""
    return {"seq": row.seq, "at": row.at.isoformat(), "kind": row.kind, "actor": row.actor,
            "subject": row.subject, "details": row.details, "prev_hash": row.prev_hash,
            "hash": row.hash, "mac": row.mac, "alg": row.alg or "sha256"}
