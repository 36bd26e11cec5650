"""ORM tables. Portable SQLAlchemy types only, so the same schema runs on SQLite and PostgreSQL.

Schema changes go through Alembic migrations in ``db/migrations/versions``; these classes are
the code's view of the schema and must match the latest migration (a test checks this).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from coalition.node.db.types import UTCDateTime

__all__ = [
    "ApiKey",
    "AuditEvent",
    "AuditorRequest",
    "Base",
    "Dataset",
    "DatasetShare",
    "Grant",
    "Partner",
    "Policy",
    "Session",
    "User",
]

_TS = UTCDateTime()


class Base(DeclarativeBase):
    """Declarative base of every node table."""


class User(Base):
    """A person (kind ``human``, logs in with a password) or a system (kind ``api``, API keys)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(_TS)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class Session(Base):
    """A login session; only the SHA-256 of its bearer token is stored."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    expires_at: Mapped[dt.datetime] = mapped_column(_TS)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(_TS)


class ApiKey(Base):
    """An API key: public ``key_id`` plus the SHA-256 of its secret; scopes are permissions."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    expires_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(_TS)


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


class Dataset(Base):
    """A registered local dataset; ``location`` (path or SQL URL) never leaves the node."""

    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(Text)
    table: Mapped[str | None] = mapped_column(String(255))
    id_column: Mapped[str] = mapped_column(String(255))
    label_column: Mapped[str | None] = mapped_column(String(255))
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    row_count: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class DatasetShare(Base):
    """Visibility: the partner may see this dataset's name, schema and row count."""

    __tablename__ = "dataset_shares"
    __table_args__ = (UniqueConstraint("dataset_id", "partner_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


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


class AuditEvent(Base):
    """One append-only audit entry; ``hash`` chains it to the previous entry's ``hash``.

    ``mac`` is HMAC-SHA256 of ``hash`` under the audit key kept outside the database (NULL only
    for entries written before the chain was keyed).
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


class AuditorRequest(Base):
    """A pending change to an auditor account; a second admin or an auditor must approve it.

    ``action`` is ``create``, ``role`` (to or from auditor) or ``password``; a new password is
    kept only as its Argon2 hash until the request is approved.
    """

    __tablename__ = "auditor_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    requested_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    decided_at: Mapped[dt.datetime | None] = mapped_column(_TS)
