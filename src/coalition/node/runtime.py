"""The running node's shared objects, built once from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from coalition.node.auth.passwords import Passwords
from coalition.node.auth.ratelimit import Backoff, FailureTally, SlidingWindow, StreamSlots
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
    login_limiter: SlidingWindow = field(init=False)  # per client address
    login_backoff: Backoff = field(init=False)  # per (username, client)
    login_failures: FailureTally = field(init=False)  # audit rows per window
    event_streams: StreamSlots = field(init=False)  # live job event streams

    def __post_init__(self) -> None:
        s = self.settings
        self.login_limiter = SlidingWindow(s.login_rate_per_minute, 60.0)
        self.login_backoff = Backoff(s.login_max_failures, s.login_backoff_base_s, s.lockout_s)
        self.login_failures = FailureTally(s.login_audit_window_s)
        self.event_streams = StreamSlots(s.event_streams_per_user, s.event_streams_total)

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
