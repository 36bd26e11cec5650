"""ORM tables: The audit trail's rows (hash-chained and MAC'd by :mod:`.trail`).

Registered on the node's one metadata (:class:`coalition.node.db.base.Base`); schema changes
go through the Alembic migrations in ``db/migrations/versions`` (a test checks they agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["AuditEvent"]

_TS = UTCDateTime()


class AuditEvent(Base):
    """One append-only audit entry; ``hash`` chains it to the previous entry's ``hash``.

    ``mac`` is HMAC of ``hash`` under the audit key kept outside the database (NULL only
    for entries written before the chain was keyed). ``alg`` names the hash of both: ``sha256``
    (SHA-256 chain, HMAC-SHA256) or ``sm3`` (SM3 chain, HMAC-SM3: a node on the ``sm`` crypto
    suite); NULL for entries written before it was recorded, which are all ``sha256``.
    """

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(_TS)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(String(64))
    alg: Mapped[str | None] = mapped_column(String(8))
