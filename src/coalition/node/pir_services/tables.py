"""PIR service tables: published services, quotas, quota use per epoch, batch records (both
sides). Schema changes go through ``db/migrations/versions/0011_pir_services.py``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["ALL_KEYS", "PirBatchRow", "PirQuotaRow", "PirServiceRow", "PirUsageRow"]

_TS = UTCDateTime()
ALL_KEYS = "*"
"""The ``api_key`` of a partner-wide quota or usage row."""


class PirServiceRow(Base):
    """A table this node publishes for keyword PIR: a registered dataset's ID column and
    payload columns, the modes it answers, the partner quota per epoch, a rebuild schedule.

    ``epoch``, ``version`` and ``rows`` mirror the table folder (``home/pir/<id>``) after each
    build; ``next_rebuild_at`` is the due time a schedule loop claims (compare-and-set)."""

    __tablename__ = "pir_services"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    dataset: Mapped[str] = mapped_column(String(64))
    id_column: Mapped[str] = mapped_column(String(128))
    columns: Mapped[list[str]] = mapped_column(JSON)
    modes: Mapped[list[str]] = mapped_column(JSON)
    quota_per_partner: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(128))
    next_rebuild_at: Mapped[dt.datetime | None] = mapped_column(_TS, index=True)
    epoch: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[dt.datetime] = mapped_column(_TS)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class PirQuotaRow(Base):
    """Queries per epoch one partner (``api_key`` ``*``) or one of its API keys may make."""

    __tablename__ = "pir_quotas"
    __table_args__ = (UniqueConstraint("service_id", "partner", "api_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("pir_services.id", ondelete="CASCADE"),
                                            index=True)
    partner: Mapped[str] = mapped_column(String(64))
    api_key: Mapped[str] = mapped_column(String(128))
    max_queries: Mapped[int] = mapped_column(Integer)


class PirUsageRow(Base):
    """Padded queries charged to a partner's API key (or session) in one epoch."""

    __tablename__ = "pir_usage"
    __table_args__ = (UniqueConstraint("service_id", "partner", "api_key", "epoch"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("pir_services.id", ondelete="CASCADE"),
                                            index=True)
    partner: Mapped[str] = mapped_column(String(64))
    api_key: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[str] = mapped_column(String(64))
    used: Mapped[int] = mapped_column(Integer)


class PirBatchRow(Base):
    """One PIR batch as this node saw it: ``side`` ``provider`` (answered for ``partner``) or
    ``consumer`` (asked ``partner``'s ``service``). Counts and mode only, never an ID:
    ``queries``/``found`` are the consumer's own (``None`` on the provider, which sees only the
    padded size); ``state`` is ``ok``, ``refused`` or ``failed`` with the error ``code``."""

    __tablename__ = "pir_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side: Mapped[str] = mapped_column(String(16), index=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    api_key: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    queries: Mapped[int | None] = mapped_column(Integer)
    padded: Mapped[int | None] = mapped_column(Integer)
    found: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    bytes_sent: Mapped[int | None] = mapped_column(BigInteger)
    bytes_received: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(_TS, index=True)
