"""Upgrading a node: a database at the previous release's schema migrates forward, data intact.

The previous schema comes from the migration history itself: a node with data is taken back
to the revision before the newest (its ``down_revision``, whatever migration is newest when
this runs), then opened as a node of this release, which migrates it. Every row of every table
the old schema has must still be there, the audit trail must verify against its signed
checkpoint, and people must still log in.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from nodekit import PASSWORD, ApiClient, database_url, make_env
from sqlalchemy import MetaData, func, select

from coalition.node import NodeRuntime, create_app
from coalition.node.audit import trail
from coalition.node.db import Database
from coalition.node.db.engine import alembic_config, current_revision
from coalition.node.settings import NodeSettings


def _previous_and_head() -> tuple[str, str]:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    previous = script.get_revision(heads[0]).down_revision
    assert isinstance(previous, str)
    return previous, heads[0]


def _downgrade(db: Database, revision: str) -> None:
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _row_counts(db: Database) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in meta.tables.items() if name != "alembic_version"}


def test_a_node_at_the_previous_schema_upgrades_with_its_data(tmp_path: Path) -> None:
    previous, head = _previous_and_head()
    env = make_env(tmp_path / "bank")  # users, sessions, audit entries, a checkpoint
    env.close()
    settings = NodeSettings.load(env.home)

    db = Database(settings.db_url)
    _downgrade(db, previous)
    assert current_revision(db.engine) == previous
    before = _row_counts(db)
    db.dispose()
    assert before["users"] == len(env.tokens) and before["audit_events"] > 0

    rt = NodeRuntime.open(settings)  # what `coalition node start` does: migrate, verify
    client = ApiClient(create_app(rt))
    try:
        assert current_revision(rt.db.engine) == head
        after = _row_counts(rt.db)
        assert {t: after[t] for t in before} == before
        with rt.db.session() as session:
            assert trail.verify(session).ok
        r = client.post("/api/v1/auth/login", json={"username": "auditor", "password": PASSWORD})
        assert r.status_code == 200, r.text
    finally:
        client.close()
        rt.close()


def test_every_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    db = Database(database_url() or f"sqlite:///{tmp_path / 'n.db'}")
    try:
        db.migrate()
        _downgrade(db, "base")
        assert current_revision(db.engine) is None
        db.migrate()
        assert current_revision(db.engine) == _previous_and_head()[1]
    finally:
        db.dispose()
