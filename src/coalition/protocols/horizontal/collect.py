"""Aggregator-side messaging with stragglers: gather answers until a deadline, send to peers
that may have gone away. A peer that is late, dead or sends an undecodable payload is simply
absent from the result — the round goes on with the others.

Sends to several peers run concurrently: a networked send returns only once the peer's server
accepted the message, so ten sequential sends cost ten network round trips on the critical
path of every round."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from coalition.core import CodecError, Context, MessageKey, Party, PeerError

__all__ = ["gather_until", "send_each"]


def gather_until(ctx: Context, parties: Iterable[Party], key: MessageKey,
                 timeout: float) -> dict[Party, Any]:
    """``{party: value}`` for the parties whose ``key`` arrived within ``timeout`` seconds
    (one shared deadline, so n stragglers cost ``timeout``, not ``n × timeout``)."""
    deadline = time.monotonic() + timeout
    out: dict[Party, Any] = {}
    for party in parties:
        try:
            out[party] = ctx.recv(party, key, timeout=max(deadline - time.monotonic(), 1e-3))
        except (PeerError, CodecError):
            continue
    return out


_POOL_SIZE = 16
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one lazily started pool per process, shared by all jobs
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="hfl-send")
        return _pool


def _send_one(ctx: Context, party: Party, key: MessageKey, value: Any) -> bool:
    try:
        ctx.send(party, key, value)
    except PeerError:
        return False
    return True


def send_each(ctx: Context, payloads: Mapping[Party, Any], key: MessageKey) -> list[Party]:
    """Send each party its payload, concurrently; return the parties the transport could not
    reach (other errors, such as a payload the codec refuses, propagate)."""
    items = list(payloads.items())
    if len(items) <= 1:
        return [p for p, v in items if not _send_one(ctx, p, key, v)]
    futures = [(p, _senders().submit(_send_one, ctx, p, key, v)) for p, v in items]
    return [p for p, fut in futures if not fut.result()]
