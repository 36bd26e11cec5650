"""Audit: a MAC per audit entry (keyed chain) and pending auditor-account requests.

Existing entries keep ``mac`` NULL; the node re-anchors them under its new key at its first
start (an ``audit.reanchored`` entry), since the key lives outside the database.

Revision ID: 0005_audit
Revises: 0004_policy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit"
down_revision: str | None = "0004_policy"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``audit_events.mac`` and the ``auditor_requests`` table."""
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    op.create_table(
        "auditor_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("auditor_requests")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("mac")
