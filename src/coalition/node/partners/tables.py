"""ORM tables: Partners, the grants they asked for and the policies that answer them.

Registered on the node's one metadata (:class:`coalition.node.db.base.Base`); schema changes
go through the Alembic migrations in ``db/migrations/versions`` (a test checks they agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["Grant", "Partner", "Policy"]

_TS = UTCDateTime()


class Partner(Base):
    """A partner node, pinned by the SHA-256 fingerprint of its certificate."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    last_health_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    last_health_ok: Mapped[bool | None] = mapped_column(Boolean)


class Grant(Base):
    """A partner's request to use a dataset, and its decision."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    component_kinds: Mapped[list[str]] = mapped_column(JSON)
    # coalition.engine.policy.GrantTerms: allowances and restrictions beyond the kinds
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_until: Mapped[dt.datetime] = mapped_column(_TS)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class Policy(Base):
    """A standing approval: requests matching it are approved without a human."""

    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    component_kinds: Mapped[list[str]] = mapped_column(JSON)
    # the most a request may ask for (GrantTerms); approved grants carry the request's terms
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    max_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
