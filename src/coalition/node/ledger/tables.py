"""Federation log tables. Schema changes go through ``db/migrations/versions/0010_ledger.py``.

One node holds several logs, told apart by ``origin`` (``coalition.ledger/<operator>``): the
log it operates (its own origin) and a mirror of each log it witnesses. Entries it produced
for a log operated elsewhere wait in ``ledger_outbox`` until the operator pulls them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["LedgerAlertRow", "LedgerCheckpointRow", "LedgerEntryRow", "LedgerKeyRow",
           "LedgerOutboxRow"]

_TS = UTCDateTime()


class LedgerEntryRow(Base):
    """Entry ``seq`` (0-based leaf index) of log ``origin``: the signed record and its leaf hash.

    ``producer_key`` is the producer's Ed25519 public key as the operator vouched for it (base64).
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("origin", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(128), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    producer: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(128))
    producer_key: Mapped[str] = mapped_column(String(64))
    leaf: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class LedgerOutboxRow(Base):
    """An entry this node signed for the log ``operator`` runs, until a co-signed head holds it."""

    __tablename__ = "ledger_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(128))
    leaf: Mapped[str] = mapped_column(String(64), index=True)
    included: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class LedgerCheckpointRow(Base):
    """A signed tree head: on the operator every head it signed (with the co-signatures it
    collected, ``final`` once they reach the quorum); on a witness every head it co-signed (the
    newest is the one it checks the next against)."""

    __tablename__ = "ledger_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))  # operator | witness
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    cosignatures: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    quorum: Mapped[int] = mapped_column(Integer, default=0)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class LedgerKeyRow(Base):
    """An organisation's ledger key (Ed25519, base64), pinned the first time its node presented
    it over mutual TLS; a different key later is an alert, never a silent replacement."""

    __tablename__ = "ledger_keys"
    org: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    pinned_at: Mapped[dt.datetime] = mapped_column(_TS)


class LedgerAlertRow(Base):
    """Evidence that ``operator``'s log misbehaved (``kind``: fork, tampered, key_changed).

    While one is unacknowledged this node refuses new jobs with that organisation."""

    __tablename__ = "ledger_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    reason: Mapped[str] = mapped_column(Text, default="")
