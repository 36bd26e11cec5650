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
    that would exceed the budget, is written to a file in ``spill_dir`` as it streams in. ``max_workers``: server threads.
    ``grace``: seconds in-flight calls get when a server stops.
    """

    chunk_bytes: int = 4 * MiB
    send_timeout: float = 60.0
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    memory_budget: int = 1024 * MiB
    spill_threshold: int = 512 * MiB
    spill_dir: Path | None = None
    max_workers: int = 8
    grace: float = 1.0

    def __post_init__(self) -> None:
        if not 64 * 1024 <= self.chunk_bytes <= 64 * MiB:
            raise ConfigError("chunk_bytes must be between 64 KiB and 64 MiB",
                              chunk_bytes=self.chunk_bytes)
        if self.send_timeout <= 0 or self.backoff_initial <= 0 or self.backoff_max <= 0:
            raise ConfigError("timeouts and backoff must be positive")
        if self.max_workers < 2:
            raise ConfigError("the peer server needs at least two worker threads")

    @property
    def max_message_bytes(self) -> int:
        """Largest gRPC message: one chunk plus room for framing."""
        return self.chunk_bytes + MiB
