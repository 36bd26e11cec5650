"""Creating a node home: settings file, identity, migrated database and the first admin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coalition.core.errors import ConflictError
from coalition.node import users
from coalition.node.auth.passwords import generate_password
from coalition.node.auth.permissions import UserRole
from coalition.node.events import Event, EventKind, emit
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


def init_node(home: Path, name: str, *, admin_username: str = "admin",
              **settings: Any) -> InitResult:
    """Create ``home`` for organisation ``name``; refuses to overwrite an existing node."""
    if (home / SETTINGS_FILE).exists():
        raise ConflictError("a node already lives here", home=str(home))
    home.mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(exist_ok=True)
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
    finally:
        rt.close()
    return InitResult(config, identity.fingerprint, admin_username, password)
