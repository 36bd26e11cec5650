"""Quotas and rates for serving, and the aggregated audit of query volume.

Two subjects are limited: a **partner** asking this node (a host) for partial results over the
peer endpoint (all its services together: a partner cannot widen its budget by deploying more
services), and an **API key or session** calling a service's REST predict route on this node
(the guest; per credential and service). Each has

* a **quota** of IDs per UTC day (``ids_per_day``), and
* a **rate**: a token bucket of ``burst_ids`` IDs refilled at ``ids_per_s``.

A refusal is typed (:class:`ServingRateLimited` / :class:`ServingQuotaExceeded`, HTTP 429 with
``Retry-After``; over the peer endpoint ``RESOURCE_EXHAUSTED`` with the same code) and counted.

Query volume is audited as aggregates, never per request and never with IDs: per subject and
service, the counts of requests, IDs, refused requests and refused IDs over a window
(``serving_audit_window_s``), written when the next request after the window's end arrives (or
on :meth:`QueryLedger.drain`); the first refusal of a subject in a window is written at once
(with the counts so far), so an operator sees a partner or key hitting its limits without
waiting. State is in memory, per node process: a restart resets buckets and the day's quota (a
partner cannot restart the host); counts of an unfinished window are written at a clean
shutdown (``coalition.node.server``) and lost in a crash.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from coalition.core.errors import InputError
from coalition.node.errors import RateLimited

__all__ = ["Limits", "QueryLedger", "ServingQuotaExceeded", "ServingRateLimited",
           "ServingRefused", "Volume"]

_DAY_S = 86_400


class ServingRefused(RateLimited):
    """A serving refusal; ``first_in_window`` says whether to audit it at once."""

    code: ClassVar[str] = "serving.refused"
    first_in_window: bool = False


class ServingRateLimited(ServingRefused):
    """More IDs per second than this subject's token bucket allows."""

    code: ClassVar[str] = "serving.rate_limited"


class ServingQuotaExceeded(ServingRefused):
    """The subject's IDs-per-day quota is spent."""

    code: ClassVar[str] = "serving.quota_exceeded"


@dataclass(frozen=True)
class Limits:
    """A quota (IDs per UTC day) and a rate (token bucket: ``burst_ids`` at ``ids_per_s``)."""

    ids_per_day: int
    ids_per_s: float
    burst_ids: int

    def as_dict(self) -> dict[str, float]:
        """Plain values (for views and the database)."""
        return {"ids_per_day": self.ids_per_day, "ids_per_s": self.ids_per_s,
                "burst_ids": self.burst_ids}


@dataclass
class _Bucket:
    tokens: float
    at: float
    day: int
    used: int = 0


@dataclass
class Volume:
    """Counts of one subject on one service over one window (what the audit records)."""

    requests: int = 0
    ids: int = 0
    refused_requests: int = 0
    refused_ids: int = 0
    alerted: bool = False  # the first refusal of the window was audited at once

    def as_dict(self) -> dict[str, int]:
        """The counts."""
        return {"requests": self.requests, "ids": self.ids,
                "refused_requests": self.refused_requests, "refused_ids": self.refused_ids}


@dataclass
class QueryLedger:
    """Token buckets, daily quotas and volume counters of one node process (thread-safe)."""

    window_s: float
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _buckets: dict[tuple[str, ...], _Bucket] = field(default_factory=dict)
    _volume: dict[tuple[str, str, str], Volume] = field(default_factory=dict)
    _window_start: float | None = None

    def admit(self, bucket: tuple[str, ...], audit: tuple[str, str, str], n: int,
              limits: Limits) -> None:
        """Spend ``n`` IDs of ``bucket``'s quota and rate, or raise a typed refusal (with
        ``first_in_window`` set on the first of a window: audit it at once). ``audit`` is
        ``(side, subject, service)`` for the volume counters."""
        if n > limits.burst_ids:
            raise InputError("a request has more IDs than the burst size allows",
                             ids=n, burst_ids=limits.burst_ids)
        with self._lock:
            now = self.clock()
            if self._window_start is None:
                self._window_start = now
            volume = self._volume.setdefault(audit, Volume())
            day = int(now // _DAY_S)
            b = self._buckets.get(bucket)
            if b is None:
                b = self._buckets[bucket] = _Bucket(float(limits.burst_ids), now, day)
            b.tokens = min(float(limits.burst_ids),
                           b.tokens + max(0.0, now - b.at) * limits.ids_per_s)
            b.at = now
            if b.day != day:
                b.day, b.used = day, 0
            refusal: ServingRefused | None = None
            if b.used + n > limits.ids_per_day:
                refusal = ServingQuotaExceeded(
                    "the daily quota of IDs is spent", retry_after_s=math.ceil(
                        (day + 1) * _DAY_S - now), ids_per_day=limits.ids_per_day)
            elif b.tokens < n:
                wait = (n - b.tokens) / limits.ids_per_s if limits.ids_per_s > 0 else _DAY_S
                refusal = ServingRateLimited("too many IDs per second",
                                             retry_after_s=max(1, math.ceil(wait)),
                                             ids_per_s=limits.ids_per_s)
            if refusal is None:
                b.tokens -= n
                b.used += n
                volume.requests += 1
                volume.ids += n
                return
            volume.refused_requests += 1
            volume.refused_ids += n
            refusal.first_in_window = not volume.alerted
            volume.alerted = True
            raise refusal

    def snapshot(self, audit: tuple[str, str, str]) -> dict[str, Any]:
        """The current window's counts for ``audit`` (for an immediate refusal event)."""
        with self._lock:
            volume = self._volume.get(audit, Volume())
            return {**volume.as_dict(), "window_start": self._window_start}

    def due(self) -> bool:
        """Whether the current window has ended (time to :meth:`drain`)."""
        start = self._window_start
        return start is not None and self.clock() >= start + self.window_s

    def drain(self) -> list[dict[str, Any]]:
        """The window's aggregates (one per subject and service with any traffic), and a new
        window."""
        with self._lock:
            now = self.clock()
            start = self._window_start if self._window_start is not None else now
            out = [{"side": side, "subject": subject, "service": service,
                    "window_start": start, "window_end": now, **v.as_dict()}
                   for (side, subject, service), v in sorted(self._volume.items())
                   if v.requests or v.refused_requests]
            self._volume.clear()
            self._window_start = now
            return out
