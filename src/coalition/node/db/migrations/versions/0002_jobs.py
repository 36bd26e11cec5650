"""Jobs: jobs, participating organisations, tasks, logs and metric points.

Revision ID: 0002_jobs
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_jobs"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _job_fk() -> sa.Column[str]:
    return sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
                     nullable=False, index=True)


def upgrade() -> None:
    """Create the job tables."""
    ts = sa.DateTime()
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("initiator", sa.String(64), nullable=False, index=True),
        sa.Column("dag", sa.JSON, nullable=False),
        sa.Column("sites", sa.JSON, nullable=False),
        sa.Column("selection", sa.JSON, nullable=False),
        sa.Column("endpoints", sa.JSON, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("rerun_of", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("finished_at", ts, nullable=True),
    )
    op.create_table(
        "job_parties",
        sa.Column("id", sa.Integer, primary_key=True),
        _job_fk(),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", ts, nullable=True),
        sa.UniqueConstraint("job_id", "org"),
    )
    op.create_table(
        "job_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        _job_fk(),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("keys", sa.JSON, nullable=False),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("started_at", ts, nullable=True),
        sa.Column("finished_at", ts, nullable=True),
        sa.UniqueConstraint("job_id", "task"),
    )
    op.create_table(
        "job_logs",
        sa.Column("id", sa.Integer, primary_key=True),
        _job_fk(),
        sa.Column("task", sa.String(64), nullable=True),
        sa.Column("party", sa.String(130), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", ts, nullable=False),
    )
    op.create_table(
        "job_metrics",
        sa.Column("id", sa.Integer, primary_key=True),
        _job_fk(),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("party", sa.String(130), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("step", sa.Integer, nullable=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("at", ts, nullable=False),
    )


def downgrade() -> None:
    """Drop the job tables."""
    for table in ("job_metrics", "job_logs", "job_tasks", "job_parties", "jobs"):
        op.drop_table(table)
