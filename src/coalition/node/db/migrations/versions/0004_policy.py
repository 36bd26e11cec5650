"""Privacy policy: grant and standing-policy terms (allowances and restrictions) as JSON.

Revision ID: 0004_policy
Revises: 0003_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_policy"
down_revision: str | None = "0003_models"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``terms`` (coalition.engine.policy.GrantTerms as JSON) to grants and policies."""
    for table in ("grants", "policies"):
        op.add_column(table, sa.Column("terms", sa.JSON, nullable=False,
                                       server_default=sa.text("'{}'")))


def downgrade() -> None:
    """Drop the terms."""
    for table in ("grants", "policies"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("terms")
