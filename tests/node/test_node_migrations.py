"""The Alembic migrations and the ORM models describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from nodekit import database_url
from sqlalchemy import inspect

from coalition.node.db import Database
from coalition.node.tables import METADATA


@pytest.fixture
def url(tmp_path: Path) -> str:
    """An empty database on the backend under test (PostgreSQL in make test's second pass)."""
    return database_url() or f"sqlite:///{tmp_path / 'n.db'}"


def test_models_match_migrations(url: str) -> None:
    db = Database(url)
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), METADATA)
    db.dispose()
    assert diff == []


def test_migrate_is_idempotent(url: str) -> None:
    db = Database(url)
    db.migrate()
    db.migrate()
    tables = set(inspect(db.engine).get_table_names())
    db.dispose()
    assert {"users", "audit_events", "grants", "alembic_version"} <= tables
