"""ORM tables: Registered datasets and the partners each one is shown to.

Registered on the node's one metadata (:class:`coalition.node.db.base.Base`); schema changes
go through the Alembic migrations in ``db/migrations/versions`` (a test checks they agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["Dataset", "DatasetShare"]

_TS = UTCDateTime()


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
