"""Alembic environment: runs on the connection handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from coalition.node.tables import METADATA  # every feature's tables, for autogenerate

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through coalition.node.db.engine.migrate")
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
