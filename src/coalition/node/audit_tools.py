"""Offline audit operations on a node home (used by ``coalition audit``), no server needed.

Verification reads the audit key and the signed checkpoint from their files (see
:mod:`coalition.node.audit_seal`); it never creates them and never writes to the database.
"""

from __future__ import annotations

import json
from pathlib import Path

from coalition.node import audit
from coalition.node.api.audit import event_dict
from coalition.node.audit_start import open_seal
from coalition.node.db.engine import Database
from coalition.node.settings import NodeSettings

__all__ = ["export_home", "verify_home"]


def _database(home: Path) -> Database:
    # No migration here: verification must read the database exactly as it is.
    return Database(NodeSettings.load(home).db_url)


def verify_home(home: Path) -> audit.VerifyResult:
    """Verify the chain, its MACs and the latest signed checkpoint of the node in ``home``."""
    settings = NodeSettings.load(home)
    seal = open_seal(settings, create=False)
    db = Database(settings.db_url)
    try:
        with db.session() as session:
            return audit.verify(session, seal)
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
