"""The declarative base of every node table. Portable SQLAlchemy types only, so the same
schema runs on SQLite and PostgreSQL.

Each feature declares its tables on this base in its own ``tables`` module (``auth``,
``partners``, ``data``, ``audit``, ``jobs``, ``library``); :mod:`coalition.node.tables`
imports them all, so the metadata is complete for Alembic and the schema test. Schema changes
go through Alembic migrations in ``db/migrations/versions``; the tables must match the latest
migration (a test checks this).
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base"]


class Base(DeclarativeBase):
    """Declarative base of every node table."""
