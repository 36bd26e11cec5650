import pytest

from coalition.core import (
    ConfigError,
    Context,
    MessageKey,
    Party,
    PeerError,
    PeerTimeoutError,
    ProtocolError,
    Role,
)
from coalition.testing import PartyFailure, run_parties
from coalition.transport import MemoryHub

PING = MessageKey("ping")
G, H1, H2, A = Party.guest(), Party.host("a"), Party.host("b"), Party.arbiter()


def test_roles_and_peers():
    hub = MemoryHub([G, H1, H2, A])
    ctx = Context(hub.channel(H1))
    assert ctx.role is Role.HOST
    assert ctx.guest == G and ctx.hosts == [H1, H2] and ctx.arbiter == A
    assert ctx.peers(Role.HOST) == [H2]
    assert Context(MemoryHub([G, H1]).channel(G)).arbiter is None


def test_namespaces_separate_same_key():
    def guest(ctx: Context) -> list[int]:
        for i, it in ctx.sub("epoch").iter(3):
            it.send(ctx.hosts, PING, i)
        return [ctx.sub("epoch").sub(str(i)).recv(ctx.hosts[0], PING) for i in range(3)]

    def host(ctx: Context) -> None:
        for _i, it in ctx.sub("epoch").iter(3):
            it.send(ctx.guest, PING, it.recv(ctx.guest, PING) * 10)

    out = run_parties({G: guest, H1: host})
    assert out[G] == [0, 10, 20]


def test_duplicate_send_is_an_error():
    hub = MemoryHub([G, H1])
    ctx = Context(hub.channel(G))
    ctx.send(H1, PING, 1)
    with pytest.raises(ProtocolError, match="twice"):
        ctx.send(H1, PING, 2)


def test_free_string_keys_are_refused():
    ctx = Context(MemoryHub([G, H1]).channel(G))
    with pytest.raises(ProtocolError):
        ctx.send(H1, "ping", 1)  # type: ignore[arg-type]


def test_timeout_names_peer_and_key():
    ctx = Context(MemoryHub([G, H1]).channel(G), timeout=0.05)
    with pytest.raises(PeerTimeoutError) as info:
        ctx.recv(H1, PING)
    assert info.value.details["peer"] == "host:a" and info.value.details["key"] == "job/ping"


def test_failed_peer_is_reported_with_its_name():
    def guest(ctx: Context) -> None:
        ctx.recv(ctx.hosts[0], PING)

    def host(ctx: Context) -> None:
        raise ValueError("boom")

    with pytest.raises(PartyFailure) as info:
        run_parties({G: guest, H1: host}, timeout=30)
    assert info.value.party == H1 and isinstance(info.value.error, ValueError)


def test_guest_count_is_validated():
    ctx = Context(MemoryHub([H1, H2]).channel(H1))
    with pytest.raises(ConfigError):
        _ = ctx.guest


def test_party_parse_round_trip():
    assert Party.parse(str(H1)) == H1
    with pytest.raises(ConfigError):
        Party.parse("nobody")
    with pytest.raises(ConfigError):
        Party(Role.HOST, "a:b")


def test_peer_error_is_a_peer_error_subclass():
    assert issubclass(PeerTimeoutError, PeerError)
