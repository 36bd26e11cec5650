"""Creating a node home: settings file, identity, migrated database and the first admin."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coalition.core.errors import ConflictError
from coalition.node.at_rest import NODE_UMASK
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.auth import users
from coalition.node.auth.passwords import generate_password
from coalition.node.auth.permissions import UserRole
from coalition.node.identity import create_identity
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import SETTINGS_FILE, NodeSettings

__all__ = ["InitResult", "init_node"]


@dataclass(frozen=True)
class InitResult:
    """What ``init`` made; ``admin_password`` exists nowhere else (it is stored hashed)."""

    settings: NodeSettings
    fingerprint: str
    admin_username: str
    admin_password: str
    auditor_username: str | None = None
    auditor_password: str | None = None


def init_node(home: Path, name: str, *, admin_username: str = "admin",
              auditor_username: str | None = None, auditor_password: str | None = None,
              **settings: Any) -> InitResult:
    """Create ``home`` for organisation ``name``; refuses to overwrite an existing node.

    ``auditor_username`` creates the first auditor too: later auditors need one administrator
    to ask and a second administrator or an existing auditor to approve, which a node with a
    single administrator could never do. ``auditor_password`` defaults to a generated one.
    """
    if (home / SETTINGS_FILE).exists():
        raise ConflictError("a node already lives here", home=str(home))
    os.umask(NODE_UMASK)  # private from the first file on (docs/security.md, finding 11)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (home / "data").mkdir(exist_ok=True, mode=0o700)
    config = NodeSettings(home=home, name=name, **{k: v for k, v in settings.items() if v is not None})
    identity = create_identity(config.identity_dir, name)
    config.save()
    rt = NodeRuntime.open(config)
    password = generate_password()
    try:
        with rt.db.session() as db:
            emit(db, Event(EventKind.NODE_INITIALISED, "system", f"node:{name}",
                           {"fingerprint": identity.fingerprint}))
            users.create_user(rt, db, "system", username=admin_username, role=UserRole.ADMIN,
                              kind=users.HUMAN, password=password)
            if auditor_username is not None:
                auditor_password = auditor_password or generate_password()
                users.create_user(rt, db, "system", username=auditor_username,
                                  role=UserRole.AUDITOR, kind=users.HUMAN,
                                  password=auditor_password, bootstrap=True)
    finally:
        rt.close()
    return InitResult(config, identity.fingerprint, admin_username, password,
                      auditor_username, auditor_password if auditor_username else None)
