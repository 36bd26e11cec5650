"""Audit: the hash algorithm of each entry (``audit_events.alg``): ``sha256``, or ``sm3`` for
entries a node on the ``sm`` crypto suite writes (SM3 chain, HMAC-SM3).

Existing entries keep ``alg`` NULL, read as ``sha256`` (what wrote them), so a trail stays
verifiable across the switch of a node's suite.

Revision ID: 0013_audit_alg
Revises: 0012_wide_byte_counts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_audit_alg"
down_revision: str | None = "0012_wide_byte_counts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``audit_events.alg``."""
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("alg", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop it again (an ``sm3`` trail then no longer verifies)."""
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("alg")
