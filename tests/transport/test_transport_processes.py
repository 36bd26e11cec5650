"""Guest, host and arbiter in three real processes over gRPC with mutual TLS on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import Context, MessageKey, Party, PeerError, PeerTimeoutError
from coalition.testing import PartyFailure, run_parties

G, H, A = Party.guest(), Party.host("h1"), Party.arbiter()
PUBLIC = MessageKey("public_key")
MASKED = MessageKey("masked")
TOTAL = MessageKey("total")


def arbiter_fn(ctx: Context) -> float:
    ctx.send([ctx.guest, *ctx.hosts], PUBLIC, {"n": 7})
    parts = ctx.gather([ctx.guest, *ctx.hosts], MASKED)
    total = float(sum(np.sum(p) for p in parts))
    ctx.send([ctx.guest, *ctx.hosts], TOTAL, total)
    return total


def member_fn(ctx: Context) -> float:
    arbiter = ctx.arbiter
    assert arbiter is not None
    key = ctx.recv(arbiter, PUBLIC)
    share = np.arange(4, dtype=np.float64) * key["n"] + (1 if ctx.role == "host" else 0)
    ctx.send(arbiter, MASKED, share)
    total: float = ctx.recv(arbiter, TOTAL)
    return total


def failing_host(ctx: Context) -> None:
    raise ValueError("host data is broken")


def waiting_guest(ctx: Context) -> object:
    return ctx.recv(H, MASKED)


def test_three_parties_exchange_over_processes() -> None:
    out = run_parties({G: member_fn, H: member_fn, A: arbiter_fn}, transport="grpc",
                      timeout=60)
    expected = float(2 * np.arange(4).sum() * 7 + 4)
    assert out == {G: expected, H: expected, A: expected}


def test_process_failure_names_the_party_and_releases_peers() -> None:
    with pytest.raises(PartyFailure) as info:
        run_parties({G: waiting_guest, H: failing_host}, transport="grpc", timeout=60)
    assert info.value.party == H
    assert isinstance(info.value.error, ValueError)
    assert "host data is broken" in str(info.value.error)


def test_peer_of_failed_party_gets_peer_error_not_timeout() -> None:
    from coalition.testing.processes import run_grpc_parties

    _, errors = run_grpc_parties({G: waiting_guest, H: failing_host}, timeout=60, wrap=None,
                                 executor=None)
    assert isinstance(errors[G], PeerError)
    assert not isinstance(errors[G], PeerTimeoutError)
    assert "host data is broken" in str(errors[G])
