"""Serving: a service's own quota and rate for the API keys that call it (issue 16, finding 7).

Revision ID: 0006_serving_limits
Revises: 0005_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_serving_limits"
down_revision: str | None = "0005_audit"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``services.limits`` (NULL: the node's defaults)."""
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("limits", sa.JSON, nullable=True))


def downgrade() -> None:
    """Drop ``services.limits``."""
    with op.batch_alter_table("services") as batch:
        batch.drop_column("limits")
