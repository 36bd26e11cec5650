"""Verification services and their batch log. Schema changes go through
``db/migrations/versions/0009_verify3.py``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["Verify3BatchRow", "Verify3ServiceRow"]

_TS = UTCDateTime()


class Verify3ServiceRow(Base):
    """A published verification table: which dataset and columns, its current epoch and the
    per-partner quota of OPRF evaluations per epoch (``None``: unlimited)."""

    __tablename__ = "verify3_services"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64))
    phone_column: Mapped[str] = mapped_column(String(128))
    name_column: Mapped[str] = mapped_column(String(128))
    id_number_column: Mapped[str] = mapped_column(String(128))
    phone_country: Mapped[str] = mapped_column(String(4))
    suite: Mapped[str] = mapped_column(String(16))
    epoch: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    built_at: Mapped[dt.datetime] = mapped_column(_TS)


class Verify3BatchRow(Base):
    """One batch, on either side: ``served`` (this node answered ``partner``) or ``queried``
    (this node asked ``partner``). Counts only: ``elements`` is the padded number of OPRF
    evaluations; ``triples`` the real count, known to the querying side only."""

    __tablename__ = "verify3_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side: Mapped[str] = mapped_column(String(8), index=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    epoch: Mapped[str] = mapped_column(String(64))
    elements: Mapped[int] = mapped_column(Integer)
    triples: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(_TS)
