"""Settings of the gRPC transport, read once and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coalition.core.errors import ConfigError

__all__ = ["MiB", "NetworkConfig"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class NetworkConfig:
    """Tuning of one node's gRPC transport.

    ``chunk_bytes``: payloads larger than this are streamed in chunks of this size (one unary
    call otherwise). ``send_timeout``: how long one ``send`` may keep retrying an unreachable
    peer before a :class:`~coalition.core.errors.PeerError`. ``backoff_initial``/``backoff_max``:
    exponential retry delays (with jitter). ``memory_budget``/``spill_threshold``/``spill_dir``:
    the receiving :class:`~coalition.transport.spool.Spool` — unread payloads stay in memory up
    to ``memory_budget`` bytes in all; any payload of ``spill_threshold`` bytes or more, or one
    that would exceed the budget, is written to a file in ``spill_dir`` as it streams in;
    spilled payloads may take ``disk_budget`` bytes in all. ``max_unread``: messages one sender
    may have waiting unread in one mailbox; ``max_mailboxes``: mailboxes peers' arrivals may
    open (one per job task and local party). Beyond any of these a message is refused with
    ``RESOURCE_EXHAUSTED`` and its sender retries until ``send_timeout``. ``max_workers``:
    server threads.
    ``grace``: seconds in-flight calls get when a server stops.
    """

    chunk_bytes: int = 4 * MiB
    send_timeout: float = 60.0
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    memory_budget: int = 1024 * MiB
    spill_threshold: int = 512 * MiB
    spill_dir: Path | None = None
    disk_budget: int = 16 * 1024 * MiB
    max_unread: int = 100_000
    max_mailboxes: int = 10_000
    max_workers: int = 8
    grace: float = 1.0

    def __post_init__(self) -> None:
        if not 64 * 1024 <= self.chunk_bytes <= 64 * MiB:
            raise ConfigError("chunk_bytes must be between 64 KiB and 64 MiB",
                              chunk_bytes=self.chunk_bytes)
        if self.send_timeout <= 0 or self.backoff_initial <= 0 or self.backoff_max <= 0:
            raise ConfigError("timeouts and backoff must be positive")
        if self.disk_budget < 0 or self.max_unread < 1 or self.max_mailboxes < 1:
            raise ConfigError("disk_budget must be >= 0, max_unread and max_mailboxes >= 1")
        if self.max_workers < 2:
            raise ConfigError("the peer server needs at least two worker threads")

    @property
    def max_message_bytes(self) -> int:
        """Largest gRPC message: one chunk plus room for framing."""
        return self.chunk_bytes + MiB
