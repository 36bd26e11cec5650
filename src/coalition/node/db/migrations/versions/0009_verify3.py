"""Three-element verification services and their batch log (``coalition.node.verify3``).

Revision ID: 0009_verify3
Revises: 0008_psi_tasks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_verify3"
down_revision: str | None = "0008_psi_tasks"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``verify3_services`` and ``verify3_batches``."""
    ts = sa.DateTime()
    op.create_table(
        "verify3_services",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("phone_column", sa.String(128), nullable=False),
        sa.Column("name_column", sa.String(128), nullable=False),
        sa.Column("id_number_column", sa.String(128), nullable=False),
        sa.Column("phone_country", sa.String(4), nullable=False),
        sa.Column("suite", sa.String(16), nullable=False),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("quota", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("built_at", ts, nullable=False),
    )
    op.create_table(
        "verify3_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("side", sa.String(8), nullable=False, index=True),
        sa.Column("partner", sa.String(64), nullable=False, index=True),
        sa.Column("service", sa.String(64), nullable=False, index=True),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("elements", sa.Integer, nullable=False),
        sa.Column("triples", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", ts, nullable=False),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("verify3_batches")
    op.drop_table("verify3_services")
