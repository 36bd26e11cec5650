"""Model library: the digest algorithm of each stored part (``model_versions.part_digest_alg``):
``sha256``, or ``sm3`` for parts a node on the ``sm`` crypto suite publishes.

Existing parts keep ``part_digest_alg`` NULL, read as ``sha256`` (what digested them), so parts
published before a node changed suites keep verifying.

Revision ID: 0014_suite_digests
Revises: 0013_audit_alg
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_suite_digests"
down_revision: str | None = "0013_audit_alg"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``model_versions.part_digest_alg``."""
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("part_digest_alg", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop it again (an ``sm3`` part then no longer verifies)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("part_digest_alg")
