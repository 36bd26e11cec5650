"""The running node's shared objects, built once from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from coalition.node.auth.passwords import Passwords
from coalition.node.auth.ratelimit import SlidingWindow
from coalition.node.db.engine import Database
from coalition.node.identity import NodeIdentity, load_identity
from coalition.node.settings import NodeSettings

__all__ = ["NodeRuntime"]


@dataclass
class NodeRuntime:
    """Settings, database, identity and the helpers every service uses."""

    settings: NodeSettings
    db: Database
    identity: NodeIdentity
    passwords: Passwords
    login_limiter: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self.login_limiter = SlidingWindow(self.settings.login_rate_per_minute, 60.0)

    @classmethod
    def open(cls, settings: NodeSettings, *, migrate: bool = True) -> NodeRuntime:
        """Connect to the database (applying migrations) and load the identity."""
        db = Database(settings.db_url)
        if migrate:
            db.migrate()
        return cls(
            settings=settings,
            db=db,
            identity=load_identity(settings.identity_dir),
            passwords=Passwords(
                settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
            ),
        )

    @property
    def name(self) -> str:
        """The organisation name of this node."""
        return self.settings.name

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()
