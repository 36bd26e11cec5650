"""Job tables: jobs, their participating organisations, tasks, logs and metric points.

Every node keeps its own rows for a job it takes part in. The initiator's rows are the
authoritative job and task states; a participant mirrors them (the initiator pushes each change)
and adds what only it knows: its parties' cache keys, its workers' logs and metrics. Schema
changes go through ``db/migrations/versions/0002_jobs.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["JobLogRow", "JobMetricRow", "JobPartyRow", "JobRow", "JobTaskRow"]

_TS = UTCDateTime()


class JobRow(Base):
    """One job as this node sees it.

    ``sites`` maps each party (``role:name``) to the organisation whose node runs it;
    ``selection`` is the partial-run choice (only/start/until/force); ``endpoints`` maps each
    party to its transport address and per-job certificate (public parts only).
    """

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    initiator: Mapped[str] = mapped_column(String(64), index=True)
    dag: Mapped[dict[str, Any]] = mapped_column(JSON)
    sites: Mapped[dict[str, str]] = mapped_column(JSON)
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    endpoints: Mapped[dict[str, Any]] = mapped_column(JSON)
    timeout_s: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(24), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    rerun_of: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
    updated_at: Mapped[dt.datetime] = mapped_column(_TS)
    finished_at: Mapped[dt.datetime | None] = mapped_column(_TS)


class JobPartyRow(Base):
    """One participating organisation's answer to the proposal (``accepted``, ``rejected``,
    ``waiting_approval`` or ``pending``) and the reason."""

    __tablename__ = "job_parties"
    __table_args__ = (UniqueConstraint("job_id", "org"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    org: Mapped[str] = mapped_column(String(64))
    parties: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(_TS)


class JobTaskRow(Base):
    """One task of a job; ``keys`` holds this node's parties' cache keys (never sent out)."""

    __tablename__ = "job_tasks"
    __table_args__ = (UniqueConstraint("job_id", "task"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24))
    error: Mapped[str] = mapped_column(Text, default="")
    keys: Mapped[dict[str, str]] = mapped_column(JSON)
    seconds: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    finished_at: Mapped[dt.datetime | None] = mapped_column(_TS)


class JobLogRow(Base):
    """One log line of a job (scheduler events, or a local worker's output)."""

    __tablename__ = "job_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    task: Mapped[str | None] = mapped_column(String(64))
    party: Mapped[str | None] = mapped_column(String(130))
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(_TS)


class JobMetricRow(Base):
    """One metric point (``loss`` at an epoch, ``auc``) of one party in one task."""

    __tablename__ = "job_metrics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(64))
    party: Mapped[str] = mapped_column(String(130))
    name: Mapped[str] = mapped_column(String(128))
    step: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(_TS)
