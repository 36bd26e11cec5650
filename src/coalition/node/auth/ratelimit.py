"""A small sliding-window rate limiter for login attempts, kept in process memory.

Per-account lockout lives in the database (it must survive restarts); this limiter only slows
down guessing from one client address, so losing it on restart is acceptable.
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self._limit = limit
        self._window = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record one attempt; return 0.0 if allowed, else seconds until the next is allowed."""
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self._window:
                events.popleft()
            if len(events) >= self._limit:
                return events[0] + self._window - now
            events.append(now)
            if len(self._events) > 10_000:  # bound memory under address-spraying
                self._events = {k: v for k, v in self._events.items() if v}
            return 0.0
