"""ORM tables: Users, their login sessions and API keys, and auditor change requests.

Registered on the node's one metadata (:class:`coalition.node.db.base.Base`); schema changes
go through the Alembic migrations in ``db/migrations/versions`` (a test checks they agree).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["ApiKey", "AuditorRequest", "Session", "User"]

_TS = UTCDateTime()


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
