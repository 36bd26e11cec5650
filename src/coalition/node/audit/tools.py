"""Offline audit operations on a node home (used by ``coalition audit``), no server needed.

Verification reads the audit key and the signed checkpoint from their files (see
:mod:`coalition.node.audit.seal`); it never creates them and never writes to the database.
"""

from __future__ import annotations

import json
from pathlib import Path

from coalition.core.errors import ConflictError
from coalition.node.audit import trail as audit
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.audit.start import open_seal
from coalition.node.audit.trail import event_dict
from coalition.node.db.engine import Database
from coalition.node.settings import NodeSettings

__all__ = ["accept_home", "export_home", "verify_home"]


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


def accept_home(home: Path, reason: str) -> audit.VerifyResult:
    """After an investigation, accept a trail whose only fault is its checkpoint, and re-sign.

    For an operator on the node host (who holds the keys anyway), with the node stopped: when
    the newest entries are gone (truncated) or the checkpoint file was lost. Entries that fail
    their hash, link or MAC are never accepted. The acceptance is itself an audit entry that
    names the old checkpoint and the reason, then a new checkpoint covers it.
    """
    settings = NodeSettings.load(home)
    seal = open_seal(settings, create=False)
    db = Database(settings.db_url)
    db.set_session_info(**{audit.SEAL_INFO: seal})
    try:
        with db.session() as session:
            before = audit.verify(session, seal)
        if before.ok:
            return before
        if before.stage != "checkpoint":
            raise ConflictError("entries fail their hash, link or MAC; they cannot be accepted",
                                first_bad=before.first_bad)
        with db.session() as session:
            emit(session, Event(EventKind.AUDIT_ACCEPTED, "system", f"node:{settings.name}", {
                "reason": reason, "entries": before.checked, "old_checkpoint": before.checkpoint,
                "fault": before.reason}))
        with db.session() as session:
            head = audit.verify(session, seal)  # fails only on the old checkpoint now
        seal.force_checkpoint(head.checked, head.head)
        with db.session() as session:
            return audit.verify(session, seal)
    finally:
        db.dispose()
