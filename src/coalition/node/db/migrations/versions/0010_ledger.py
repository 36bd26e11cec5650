"""The federation log: entries, outbox, checkpoints, pinned keys, alerts (``coalition.node.ledger``).

Revision ID: 0010_ledger
Revises: 0009_verify3
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ledger"
down_revision: str | None = "0009_verify3"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the ``ledger_*`` tables."""
    ts = sa.DateTime()
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("origin", sa.String(128), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True, index=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("producer_key", sa.String(64), nullable=False),
        sa.Column("leaf", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("origin", "seq"),
    )
    op.create_table(
        "ledger_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operator", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("leaf", sa.String(64), nullable=False, index=True),
        sa.Column("included", sa.Boolean, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("origin", sa.String(128), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("cosignatures", sa.JSON, nullable=False),
        sa.Column("quorum", sa.Integer, nullable=False),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "ledger_keys",
        sa.Column("org", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("pinned_at", ts, nullable=False),
    )
    op.create_table(
        "ledger_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operator", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("acknowledged_at", ts, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop the tables."""
    for name in ("ledger_alerts", "ledger_keys", "ledger_checkpoints", "ledger_outbox",
                 "ledger_entries"):
        op.drop_table(name)
