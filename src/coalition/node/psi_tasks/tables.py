"""PSI task tables: saved tasks, one record per run, cron schedules. Schema changes go through
``db/migrations/versions/0008_psi_tasks.py``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["PsiRunRow", "PsiScheduleRow", "PsiTaskRow"]

_TS = UTCDateTime()


class PsiTaskRow(Base):
    """A PSI this node runs with a partner: this node's dataset and key column against the
    partner's shared dataset and key column, with one protocol."""

    __tablename__ = "psi_tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    dataset: Mapped[str] = mapped_column(String(64))
    key_column: Mapped[str] = mapped_column(String(128))
    partner: Mapped[str] = mapped_column(String(64), index=True)
    partner_dataset: Mapped[str] = mapped_column(String(64))
    partner_key_column: Mapped[str] = mapped_column(String(128))
    protocol: Mapped[str] = mapped_column(String(16))
    receiver: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class PsiRunRow(Base):
    """One run of a task: its job, who started it, and (once finalised) what it produced.

    ``state`` mirrors the job's until :func:`coalition.node.psi_tasks.service.finalise_run`
    sets the final one and ``finalised_at``; sizes, wall time and the result's hash
    (over the sorted intersected IDs, one per line: SHA-256, or SM3 on a node of the ``sm``
    crypto suite, recorded in ``result_hash_alg``; NULL means ``sha256``, migration
    0015_psi_result_alg) are filled then.
    ``wire_bytes``: the PSI protocol's encoded payloads this node sent plus received (the
    ``psi`` component's ``bytes_sent`` and ``bytes_received`` metrics; with two parties, all
    the protocol's traffic; gRPC/TLS framing not counted); ``None`` if the job did not report
    them.
    """

    __tablename__ = "psi_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("psi_tasks.id", ondelete="CASCADE"),
                                         index=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    protocol: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(_TS)
    finalised_at: Mapped[dt.datetime | None] = mapped_column(_TS)
    wall_s: Mapped[float | None] = mapped_column(Float)
    input_rows: Mapped[int | None] = mapped_column(Integer)
    intersection_size: Mapped[int | None] = mapped_column(Integer)
    wire_bytes: Mapped[int | None] = mapped_column(BigInteger)
    result_dataset: Mapped[str | None] = mapped_column(String(64))
    result_hash: Mapped[str | None] = mapped_column(String(64))
    result_hash_alg: Mapped[str | None] = mapped_column(String(8))  # NULL: sha256


class PsiScheduleRow(Base):
    """A cron schedule of one task (``cron``: five fields, or six with seconds last).

    ``next_run_at`` is the one due time a scheduler loop claims (compare-and-set), so a run
    is started once per due time however many loops look, and a restart resumes from it.
    """

    __tablename__ = "psi_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("psi_tasks.id", ondelete="CASCADE"),
                                         index=True)
    cron: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(_TS, index=True)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
