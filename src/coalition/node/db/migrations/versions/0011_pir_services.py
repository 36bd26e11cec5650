"""PIR services, their quotas, quota use per epoch and batch records
(``coalition.node.pir_services``).

Revision ID: 0011_pir_services
Revises: 0010_ledger
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_pir_services"
down_revision: str | None = "0010_ledger"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``pir_services``, ``pir_quotas``, ``pir_usage`` and ``pir_batches``."""
    ts = sa.DateTime()
    op.create_table(
        "pir_services",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("id_column", sa.String(128), nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("modes", sa.JSON, nullable=False),
        sa.Column("quota_per_partner", sa.Integer, nullable=True),
        sa.Column("cron", sa.String(128), nullable=True),
        sa.Column("next_rebuild_at", ts, nullable=True, index=True),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("built_at", ts, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "pir_quotas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.String(32),
                  sa.ForeignKey("pir_services.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("api_key", sa.String(128), nullable=False),
        sa.Column("max_queries", sa.Integer, nullable=False),
        sa.UniqueConstraint("service_id", "partner", "api_key"),
    )
    op.create_table(
        "pir_usage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.String(32),
                  sa.ForeignKey("pir_services.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("api_key", sa.String(128), nullable=False),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.UniqueConstraint("service_id", "partner", "api_key", "epoch"),
    )
    op.create_table(
        "pir_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("side", sa.String(16), nullable=False, index=True),
        sa.Column("service", sa.String(64), nullable=False, index=True),
        sa.Column("partner", sa.String(64), nullable=False, index=True),
        sa.Column("api_key", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("queries", sa.Integer, nullable=True),
        sa.Column("padded", sa.Integer, nullable=True),
        sa.Column("found", sa.Integer, nullable=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("bytes_sent", sa.Integer, nullable=True),
        sa.Column("bytes_received", sa.Integer, nullable=True),
        sa.Column("at", ts, nullable=False, index=True),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("pir_batches")
    op.drop_table("pir_usage")
    op.drop_table("pir_quotas")
    op.drop_table("pir_services")
