"""Login throttling kept in process memory: a per-client sliding window, a progressive delay
per (username, client), and a tally that turns anonymous failures into one audit row per window.

Nothing here looks at whether a username exists: the same keys, counters and answers apply to
unknown names, so the throttle itself cannot be used to enumerate accounts. Losing this state
on restart is acceptable: the delay only slows guessing, and a restart resets it for everyone.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backoff", "FailureTally", "SlidingWindow"]

Clock = Callable[[], float]
_MAX_KEYS = 50_000  # bound memory under username/address spraying
_MAX_TALLY_KEYS = 1_000  # distinct names/clients counted per window; the rest count as "other"


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Clock = time.monotonic) -> None:
        self._limit = limit
        self._window = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def hit(self, key: str) -> float:
        """Record one attempt; return 0.0 if allowed, else seconds until the next is allowed."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self._window:
                events.popleft()
            if len(events) >= self._limit:
                return events[0] + self._window - now
            events.append(now)
            if len(self._events) > _MAX_KEYS:
                self._events = {k: v for k, v in self._events.items() if v}
            return 0.0


@dataclass
class _Strikes:
    count: int
    last: float


class Backoff:
    """Progressive delay per key (a key is ``(username, client)``): the first ``free`` attempts
    are immediate; after that attempt ``free + k`` must wait ``base_s * 2**k`` seconds after
    the previous one, capped at ``cap_s``. A key is forgotten after a success or after
    ``2 * cap_s`` seconds without attempts. Never a hard lock: other clients of the same
    username are not affected, and the key's owner can always try again after the delay.

    Every attempt counts (before the password is checked), so parallel requests cannot slip
    several guesses through one free slot; a success clears the key.
    """

    def __init__(self, free: int, base_s: float, cap_s: float,
                 clock: Clock = time.monotonic) -> None:
        self._free, self._base, self._cap = free, base_s, cap_s
        self._keys: dict[tuple[str, str], _Strikes] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def _delay(self, count: int) -> float:
        if count < self._free:
            return 0.0
        return float(min(self._base * 2.0 ** min(count - self._free, 62), self._cap))

    def attempt(self, key: tuple[str, str]) -> float:
        """0.0 and the attempt is recorded, or the seconds to wait (nothing recorded)."""
        now = self.clock()
        with self._lock:
            strikes = self._keys.get(key)
            if strikes is not None and now - strikes.last > 2 * self._cap:
                strikes = None
            if strikes is not None:
                wait = strikes.last + self._delay(strikes.count) - now
                if wait > 0:
                    return wait
            if strikes is None:
                if len(self._keys) >= _MAX_KEYS:
                    self._evict(now)
                strikes = self._keys[key] = _Strikes(0, now)
            strikes.count += 1
            strikes.last = now
            return 0.0

    def succeeded(self, key: tuple[str, str]) -> None:
        """Forget the key's strikes."""
        with self._lock:
            self._keys.pop(key, None)

    def _evict(self, now: float) -> None:
        stale = [k for k, s in self._keys.items() if now - s.last > 2 * self._cap]
        for k in stale:
            del self._keys[k]
        if len(self._keys) >= _MAX_KEYS:  # still full: drop the oldest half
            by_age = sorted(self._keys.items(), key=lambda kv: kv[1].last)
            for k, _ in by_age[: len(by_age) // 2]:
                del self._keys[k]


@dataclass
class _Window:
    start_wall: float
    start: float
    failures: int = 0
    throttled: int = 0
    users: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)


def _count(counter: Counter[str], key: str) -> None:
    if key in counter or len(counter) < _MAX_TALLY_KEYS:
        counter[key] += 1
    else:
        counter["(other)"] += 1


class FailureTally:
    """Anonymous login failures counted per window of ``window_s`` seconds.

    :meth:`add` reports whether the failure opened a new window (the caller audits that first
    failure at once); :meth:`due` returns the summary of a window that has closed (the caller
    audits it as one row). So an attack of any size costs at most two audit rows per window.
    """

    def __init__(self, window_s: float, top: int = 20, clock: Clock = time.monotonic,
                 wall: Clock = time.time) -> None:
        self._window_s, self._top = window_s, top
        self._current: _Window | None = None
        self._lock = threading.Lock()
        self.clock, self.wall = clock, wall

    def add(self, username: str, client: str, *, throttled: bool) -> bool:
        """Count one failed (or throttled) attempt; True if it opened a window."""
        with self._lock:
            opened = self._current is None
            if self._current is None:
                self._current = _Window(self.wall(), self.clock())
            window = self._current
            window.failures += 1
            window.throttled += int(throttled)
            _count(window.users, username)
            _count(window.clients, client)
            return opened

    def due(self, *, force: bool = False) -> dict[str, Any] | None:
        """The closed window's summary (and forget it), or None while it is still open."""
        with self._lock:
            window = self._current
            if window is None or (not force and self.clock() - window.start < self._window_s):
                return None
            self._current = None
        start = dt.datetime.fromtimestamp(window.start_wall, dt.UTC)
        return {"window_start": start.isoformat(), "window_s": self._window_s,
                "failures": window.failures, "throttled": window.throttled,
                "distinct_users": len(window.users), "distinct_clients": len(window.clients),
                "users": dict(window.users.most_common(self._top)),
                "clients": dict(window.clients.most_common(self._top))}


class StreamSlots:
    """Concurrent long-lived streams: at most ``per_user`` per user and ``total`` in all."""

    def __init__(self, per_user: int, total: int) -> None:
        self._per_user, self._total = per_user, total
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, user: str) -> bool:
        """Take a slot for ``user``; False when a cap is reached (nothing taken)."""
        with self._lock:
            if self._open[user] >= self._per_user or self._open.total() >= self._total:
                return False
            self._open[user] += 1
            return True

    def release(self, user: str) -> None:
        """Give a slot back."""
        with self._lock:
            self._open[user] -= 1
            if self._open[user] <= 0:
                del self._open[user]

    def open_for(self, user: str) -> int:
        """How many streams ``user`` has open."""
        with self._lock:
            return self._open[user]
