"""The chaos wrapper through run_parties, on both transports."""

from __future__ import annotations

import pytest

from coalition.core import ConfigError, Context, MessageKey, Party
from coalition.testing import Chaos, PartyFailure, Recorder, run_parties

G, H1, H2 = Party.guest(), Party.host("h1"), Party.host("h2")
SHARE = MessageKey("share")
SUM = MessageKey("sum")
ROUNDS = 6


def guest(ctx: Context) -> list[int]:
    totals = []
    for i, it in ctx.sub("round").iter(ROUNDS):
        it.send(ctx.hosts, SHARE, i)
    for _, it in ctx.sub("round").iter(ROUNDS):
        totals.append(sum(it.gather(ctx.hosts, SUM)))
    return totals


def host(ctx: Context) -> None:
    values = [it.recv(ctx.guest, SHARE) for _, it in ctx.sub("round").iter(ROUNDS)]
    for (_, it), v in zip(ctx.sub("round").iter(ROUNDS), values, strict=True):
        it.send(ctx.guest, SUM, v + len(ctx.party.name))


EXPECTED = [2 * i + 4 for i in range(ROUNDS)]


def test_chaos_on_the_memory_hub_keeps_results() -> None:
    out = run_parties({G: guest, H1: host, H2: host}, wrap=Chaos(seed=1, duplicate=0.6).wrap,
                      timeout=20)
    assert out[G] == EXPECTED


def test_chaos_over_grpc_processes_keeps_results() -> None:
    out = run_parties({G: guest, H1: host, H2: host}, transport="grpc",
                      wrap=Chaos(seed=2, duplicate=0.6).wrap, timeout=30)
    assert out[G] == EXPECTED


def test_chaos_refuses_channels_it_cannot_retransmit_on() -> None:
    with pytest.raises(PartyFailure) as info:
        run_parties({G: guest, H1: host, H2: host},
                    wrap=lambda c: Chaos().wrap(Recorder().wrap(c)), timeout=5)
    assert isinstance(info.value.error, ConfigError)


def test_unpicklable_wrap_is_refused_for_grpc() -> None:
    with pytest.raises(ConfigError, match="picklable"):
        run_parties({G: guest, H1: host}, transport="grpc", wrap=lambda c: c)
