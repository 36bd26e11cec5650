"""Per-partner limits on the peer endpoint: a typed refusal and a token-bucket call rate.

A registered partner may call the peer methods at will; without limits one partner can fill
this node's tables (proposals, grant requests), its threads and its processes. The limits
(:class:`~coalition.node.settings.NodeSettings` ``peer_rate_*``, ``*_max_pending_*``,
``job_max_*``) bound what one partner can make this node hold or do; every refusal is a
:class:`LimitError` (HTTP 429, gRPC ``RESOURCE_EXHAUSTED``), never a silent drop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from coalition.core.errors import CoalitionError

__all__ = ["LimitError", "RateLimiter"]


class LimitError(CoalitionError):
    """A per-partner cap or rate was exceeded; retry later or ask the owner to raise it."""

    code = "limit.exceeded"
    http_status = 429


class RateLimiter:
    """Token buckets keyed by caller: ``burst`` calls at once, refilled at ``per_minute``.

    Thread-safe; memory is one entry per caller (callers are registered partners).
    """

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> None:
        """Spend one call of ``key``; :class:`LimitError` if its bucket is empty."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise LimitError("too many calls from this partner; slow down")
            self._buckets[key] = (tokens - 1.0, now)
