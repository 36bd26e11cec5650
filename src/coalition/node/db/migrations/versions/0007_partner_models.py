"""Partner-published model parts are namespaced ``<partner>:<name>``: widen the name column.

Revision ID: 0007_partner_models
Revises: 0006_serving_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_partner_models"
down_revision: str | None = "0006_serving_limits"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """``model_versions.name`` holds ``<partner>:<name>`` (64 + 1 + 64 characters)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.alter_column("name", existing_type=sa.String(64), type_=sa.String(129),
                           existing_nullable=False)


def downgrade() -> None:
    """Back to 64 characters (fails while a namespaced name is longer)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.alter_column("name", existing_type=sa.String(129), type_=sa.String(64),
                           existing_nullable=False)
