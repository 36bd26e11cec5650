"""Byte counts as 64-bit integers: ``psi_runs.wire_bytes``, ``pir_batches.bytes_sent`` and
``bytes_received`` (a 32-bit column overflows past 2 GiB on PostgreSQL: a large ECDH run).

Revision ID: 0012_wide_byte_counts
Revises: 0011_pir_services
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_wide_byte_counts"
down_revision: str | None = "0011_pir_services"
branch_labels: str | None = None
depends_on: str | None = None

_COLUMNS = {"psi_runs": ("wire_bytes",), "pir_batches": ("bytes_sent", "bytes_received")}


def _retype(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=to, existing_type=was, existing_nullable=True)


def upgrade() -> None:
    """Widen the byte counts to BIGINT."""
    _retype(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    """Back to INTEGER."""
    _retype(sa.Integer(), sa.BigInteger())
