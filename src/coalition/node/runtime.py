"""The running node's shared objects, built once from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from coalition.core.errors import ConfigError
from coalition.node.at_rest import HOME_INFO, seal_stored_credentials, secure_home
from coalition.node.audit.seal import AuditSeal
from coalition.node.audit.start import check_at_start, open_seal
from coalition.node.audit.trail import SEAL_INFO
from coalition.node.auth.passwords import Passwords
from coalition.node.auth.ratelimit import Backoff, FailureTally, SlidingWindow, StreamSlots
from coalition.node.db.engine import Database
from coalition.node.identity import NodeIdentity, load_identity
from coalition.node.settings import NodeSettings
from coalition.node.slots import Slot, Slots

if TYPE_CHECKING:
    from coalition.node.peer.client import PeerClient

__all__ = ["NodeRuntime"]

T = TypeVar("T")


@dataclass
class NodeRuntime:
    """Settings, database, identity and the helpers every service uses."""

    settings: NodeSettings
    db: Database
    identity: NodeIdentity
    passwords: Passwords
    audit_seal: AuditSeal
    login_limiter: SlidingWindow = field(init=False)  # per client address
    login_backoff: Backoff = field(init=False)  # per (username, client)
    login_failures: FailureTally = field(init=False)  # audit rows per window
    event_streams: StreamSlots = field(init=False)  # live job event streams
    _peers: PeerClient | None = field(default=None, init=False, repr=False)
    _slots: Slots = field(default_factory=Slots, init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.login_limiter = SlidingWindow(s.login_rate_per_minute, 60.0)
        self.login_backoff = Backoff(s.login_max_failures, s.login_backoff_base_s, s.lockout_s)
        self.login_failures = FailureTally(s.login_audit_window_s)
        self.event_streams = StreamSlots(s.event_streams_per_user, s.event_streams_total)

    @classmethod
    def open(cls, settings: NodeSettings, *, migrate: bool = True) -> NodeRuntime:
        """Connect to the database (applying migrations), load the identity, check the trail."""
        secure_home(settings)  # umask 0o077 before the database file is created
        db = Database(settings.db_url)
        if migrate:
            db.migrate()
        seal = open_seal(settings)
        db.set_session_info(**{SEAL_INFO: seal, HOME_INFO: settings.home})
        try:
            check_at_start(db, seal, settings)
            seal_stored_credentials(db, settings)
        except BaseException:
            db.dispose()
            raise
        return cls(
            settings=settings,
            db=db,
            identity=load_identity(settings.identity_dir),
            passwords=Passwords(
                settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
            ),
            audit_seal=seal,
        )

    @property
    def peers(self) -> PeerClient:
        """The peer client of this node (calls to partners and to itself), installed at composition
        (:func:`coalition.node.composition.install`)."""
        if self._peers is None:
            raise ConfigError("the peer client is not installed on this runtime "
                              "(coalition.node.composition.install)")
        return self._peers

    @property
    def has_peers(self) -> bool:
        """Whether :attr:`peers` is installed."""
        return self._peers is not None

    def attach_peers(self, client: PeerClient) -> None:
        """Install the peer client (once, at composition)."""
        if self._peers is not None:
            raise ConfigError("the peer client is already installed")
        self._peers = client

    def state(self, slot: Slot[T]) -> T:
        """The instance of a feature's state held on this runtime (:mod:`coalition.node.slots`), created
        on first use and closed by :meth:`close`."""
        return self._slots.get(self, slot)

    @property
    def name(self) -> str:
        """The organisation name of this node."""
        return self.settings.name

    def close(self) -> None:
        """Close the features' state (:meth:`state`), the peer channels, sign a last audit
        checkpoint, release database connections."""
        self._slots.close()
        if self._peers is not None:
            self._peers.close()
        self.audit_seal.checkpoint_latest()
        self.db.dispose()
