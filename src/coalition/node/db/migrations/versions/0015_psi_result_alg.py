"""PSI runs: the hash of each run's result digest (``psi_runs.result_hash_alg``): ``sha256``,
or ``sm3`` for runs a node on the ``sm`` crypto suite finalised.

Existing runs keep ``result_hash_alg`` NULL, read as ``sha256`` (what hashed them).

Revision ID: 0015_psi_result_alg
Revises: 0014_suite_digests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_psi_result_alg"
down_revision: str | None = "0014_suite_digests"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``psi_runs.result_hash_alg``."""
    with op.batch_alter_table("psi_runs") as batch:
        batch.add_column(sa.Column("result_hash_alg", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop it again (an SM3 result hash then reads as SHA-256)."""
    with op.batch_alter_table("psi_runs") as batch:
        batch.drop_column("result_hash_alg")
