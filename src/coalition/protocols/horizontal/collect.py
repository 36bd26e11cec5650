"""Aggregator-side messaging with stragglers: gather answers until a deadline, send to peers
that may have gone away. A peer that is late, dead or sends an undecodable payload is simply
absent from the result — the round goes on with the others."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
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


def send_each(ctx: Context, payloads: Mapping[Party, Any], key: MessageKey) -> list[Party]:
    """Send each party its payload; return the parties the transport could not reach."""
    unreachable = []
    for party, value in payloads.items():
        try:
            ctx.send(party, key, value)
        except PeerError:
            unreachable.append(party)
    return unreachable
