"""PSI tasks, their run records and cron schedules (``coalition.node.psi_tasks``).

Revision ID: 0008_psi_tasks
Revises: 0007_partner_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_psi_tasks"
down_revision: str | None = "0007_partner_models"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``psi_tasks``, ``psi_runs`` and ``psi_schedules``."""
    ts = sa.DateTime()
    op.create_table(
        "psi_tasks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("key_column", sa.String(128), nullable=False),
        sa.Column("partner", sa.String(64), nullable=False, index=True),
        sa.Column("partner_dataset", sa.String(64), nullable=False),
        sa.Column("partner_key_column", sa.String(128), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("receiver", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "psi_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.String(32), sa.ForeignKey("psi_tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("job_id", sa.String(32), nullable=False, index=True),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("started_at", ts, nullable=False),
        sa.Column("finalised_at", ts, nullable=True),
        sa.Column("wall_s", sa.Float, nullable=True),
        sa.Column("input_rows", sa.Integer, nullable=True),
        sa.Column("intersection_size", sa.Integer, nullable=True),
        sa.Column("wire_bytes", sa.Integer, nullable=True),
        sa.Column("result_dataset", sa.String(64), nullable=True),
        sa.Column("result_hash", sa.String(64), nullable=True),
    )
    op.create_table(
        "psi_schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.String(32), sa.ForeignKey("psi_tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("cron", sa.String(128), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_run_at", ts, nullable=False, index=True),
        sa.Column("last_run_id", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("psi_schedules")
    op.drop_table("psi_runs")
    op.drop_table("psi_tasks")
