"""Offline audit operations on a node home (used by ``coalition audit``), no server needed."""

from __future__ import annotations

import json
from pathlib import Path

from coalition.node import audit
from coalition.node.api.audit import event_dict
from coalition.node.db.engine import Database
from coalition.node.settings import NodeSettings

__all__ = ["export_home", "verify_home"]


def _database(home: Path) -> Database:
    # No migration here: verification must read the database exactly as it is.
    return Database(NodeSettings.load(home).db_url)


def verify_home(home: Path) -> audit.VerifyResult:
    """Verify the audit chain of the node living in ``home``."""
    db = _database(home)
    try:
        with db.session() as session:
            return audit.verify(session)
    finally:
        db.dispose()


def export_home(home: Path) -> list[str]:
    """Every audit entry of the node in ``home`` as one JSON line each."""
    db = _database(home)
    try:
        with db.session() as session:
            return [json.dumps(event_dict(row), sort_keys=True) for row in audit.iter_events(session)]
    finally:
        db.dispose()
