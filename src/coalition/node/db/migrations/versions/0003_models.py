"""Model library and serving: model versions (with this node's part), online sources, services.

Revision ID: 0003_models
Revises: 0002_jobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_models"
down_revision: str | None = "0002_jobs"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the model and serving tables."""
    ts = sa.DateTime()
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("component", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("guest", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("task", sa.String(64), nullable=True),
        sa.Column("dag_hash", sa.String(64), nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("part_file", sa.Text, nullable=False),
        sa.Column("part_sha256", sa.String(64), nullable=False),
        sa.Column("part_signature", sa.String(128), nullable=True),
        sa.Column("part_signer", sa.String(64), nullable=True),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("name", "version"),
    )
    op.create_table(
        "online_sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("guest", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"),
                  nullable=False, index=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("hosts", sa.JSON, nullable=False),
        sa.Column("timeout_ms", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("guest", "name"),
    )


def downgrade() -> None:
    """Drop the model and serving tables."""
    op.drop_table("services")
    op.drop_table("online_sources")
    op.drop_table("model_versions")
