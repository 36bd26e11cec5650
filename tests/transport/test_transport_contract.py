"""One channel contract, run against the in-memory hub and the gRPC transport.

``ChannelContract`` holds every test; each concrete subclass only says how to open channels
for a set of parties and how to mark a party as failed.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, ClassVar

import numpy as np
import pytest

from coalition.core import (
    Channel,
    CoalitionError,
    ConfigError,
    Context,
    MessageKey,
    Party,
    PeerError,
    PeerTimeoutError,
    ProtocolError,
)
from coalition.testing import Chaos, ChaosChannel
from coalition.transport import MemoryHub, SealingChannel
from coalition.transport.grpc import GrpcChannel, NetworkConfig, PeerServer
from coalition.transport.tls import Trust, generate_ca, issue_party_cert

G, H1, H2, A = Party.guest(), Party.host("h1"), Party.host("h2"), Party.arbiter()
K = MessageKey("k")
K2 = MessageKey("k2")
MiB = 1024 * 1024


def run_roles(channels: dict[Party, Channel], roles: dict[Party, Callable[[Context], Any]],
              *, timeout: float = 10.0,
              wrap: Callable[[Channel], Channel] | None = None) -> dict[Party, Any]:
    """Each role in a thread on its channel; the first error is re-raised."""
    results: dict[Party, Any] = {}
    errors: list[BaseException] = []
    wrapped = {p: wrap(c) if wrap else c for p, c in channels.items()}

    def target(p: Party) -> None:
        try:
            results[p] = roles[p](Context(wrapped[p], timeout=timeout))
            chan = wrapped[p]
            if isinstance(chan, ChaosChannel):
                chan.flush(timeout)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(p,)) for p in roles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


class ChannelContract(abc.ABC):
    """Everything a transport must do; subclasses provide :meth:`channels` and :meth:`fail`."""

    @abc.abstractmethod
    def channels(self, parties: Sequence[Party]) -> AbstractContextManager[dict[Party, Channel]]:
        """Open one channel per party, close them afterwards."""

    @abc.abstractmethod
    def fail(self, channels: dict[Party, Channel], party: Party, reason: str) -> None:
        """Tell the peers of ``party`` it failed."""

    # -- plain messages ---------------------------------------------------------------------
    def test_send_recv_roundtrip_of_codec_values(self) -> None:
        value = {"ints": [1, 2, 2**80], "arr": np.arange(6, dtype=np.int64).reshape(2, 3),
                 "text": "héllo", "raw": b"\x00\x01"}

        def guest(ctx: Context) -> None:
            ctx.send(H1, K, value)

        def host(ctx: Context) -> Any:
            return ctx.recv(G, K)

        with self.channels([G, H1]) as chans:
            got = run_roles(chans, {G: guest, H1: host})[H1]
        assert got["ints"] == value["ints"] and got["text"] == "héllo"
        assert got["raw"] == b"\x00\x01"
        np.testing.assert_array_equal(got["arr"], value["arr"])

    def test_channel_reports_parties(self) -> None:
        with self.channels([G, H1, A]) as chans:
            assert chans[H1].party == H1
            assert sorted(chans[H1].parties) == sorted([G, H1, A])

    def test_recv_in_any_order_of_arrival(self) -> None:
        with self.channels([G, H1]) as chans:
            chans[G].send(H1, "job/first", b"1")
            chans[G].send(H1, "job/second", b"2")
            assert chans[H1].recv(G, "job/second", 5) == b"2"
            assert chans[H1].recv(G, "job/first", 5) == b"1"

    def test_same_key_from_two_senders_is_two_messages(self) -> None:
        with self.channels([G, H1, H2]) as chans:
            chans[H1].send(G, "job/k", b"from h1")
            chans[H2].send(G, "job/k", b"from h2")
            assert chans[G].recv(H2, "job/k", 5) == b"from h2"
            assert chans[G].recv(H1, "job/k", 5) == b"from h1"

    def test_empty_payload(self) -> None:
        with self.channels([G, H1]) as chans:
            chans[G].send(H1, "job/empty", b"")
            assert chans[H1].recv(G, "job/empty", 5) == b""

    # -- namespaces and iterations ----------------------------------------------------------
    def test_namespaces_keep_the_same_key_apart(self) -> None:
        def guest(ctx: Context) -> None:
            ctx.sub("a").send(H1, K, "in a")
            ctx.sub("b").send(H1, K, "in b")
            ctx.send(H1, K, "at root")

        def host(ctx: Context) -> list[str]:
            return [ctx.sub("b").recv(G, K), ctx.recv(G, K), ctx.sub("a").recv(G, K)]

        with self.channels([G, H1]) as chans:
            assert run_roles(chans, {G: guest, H1: host})[H1] == ["in b", "at root", "in a"]

    def test_iteration_keys_reuse_a_key_per_iteration(self) -> None:
        def guest(ctx: Context) -> list[int]:
            out = []
            for i, it in ctx.sub("epoch").iter(5):
                it.send(H1, K, i)
                out.append(it.recv(H1, K2))
            return out

        def host(ctx: Context) -> None:
            for _, it in ctx.sub("epoch").iter(5):
                it.send(G, K2, it.recv(G, K) * 10)

        with self.channels([G, H1]) as chans:
            assert run_roles(chans, {G: guest, H1: host})[G] == [0, 10, 20, 30, 40]

    def test_broadcast_and_gather(self) -> None:
        def arbiter(ctx: Context) -> list[int]:
            ctx.send(ctx.peers(), K, 3)
            return ctx.gather([ctx.guest, *ctx.hosts], K2)

        def member(ctx: Context) -> None:
            arb = ctx.arbiter
            assert arb is not None
            ctx.send(arb, K2, ctx.recv(arb, K) + len(ctx.party.name))

        with self.channels([G, H1, H2, A]) as chans:
            out = run_roles(chans, {A: arbiter, G: member, H1: member, H2: member})
        assert out[A] == [3 + 5, 3 + 2, 3 + 2]

    # -- errors ---------------------------------------------------------------------------------
    def test_recv_timeout_is_typed_and_names_peer_and_key(self) -> None:
        with self.channels([G, H1]) as chans:
            ctx = Context(chans[H1], timeout=0.2)
            with pytest.raises(PeerTimeoutError) as info:
                ctx.sub("round").recv(G, K)
        assert info.value.details["peer"] == str(G)
        assert info.value.details["key"] == "job/round/k"
        assert isinstance(info.value, PeerError) and info.value.code == "peer.timeout"

    def test_second_send_of_a_key_is_a_protocol_error(self) -> None:
        with self.channels([G, H1]) as chans:
            chans[G].send(H1, "job/once", b"a")
            with pytest.raises(ProtocolError, match="twice"):
                chans[G].send(H1, "job/once", b"b")
            ctx = Context(chans[G])
            ctx.send(H1, K, 1)
            with pytest.raises(ProtocolError, match="twice"):
                ctx.send(H1, K, 1)
            assert chans[H1].recv(G, "job/once", 5) == b"a"

    def test_retransmitted_envelope_is_delivered_once(self) -> None:
        with self.channels([G, H1]) as chans:
            sender = chans[G]
            assert isinstance(sender, SealingChannel)
            env = sender.seal(H1, "job/retry", 3)
            sender.push(env, b"abc")
            sender.push(env, b"abc")  # a network retry of the very same message
            assert chans[H1].recv(G, "job/retry", 5) == b"abc"
            sender.push(env, b"abc")  # even after it was read
            with pytest.raises(PeerTimeoutError):
                chans[H1].recv(G, "job/retry", 0.2)

    def test_same_key_with_another_sequence_is_refused_by_the_receiver(self) -> None:
        with self.channels([G, H1]) as chans:
            sender = chans[G]
            assert isinstance(sender, SealingChannel)
            env = sender.seal(H1, "job/x", 1)
            sender.push(env, b"a")
            forged = type(env)(**{**env.__dict__, "seq": env.seq + 7})
            with pytest.raises(ProtocolError):
                sender.push(forged, b"b")
            assert chans[H1].recv(G, "job/x", 5) == b"a"

    def test_unknown_peer_is_a_config_error(self) -> None:
        with self.channels([G, H1]) as chans, pytest.raises(ConfigError):
            chans[G].send(H2, "job/x", b"a")

    def test_failed_peer_ends_waits_at_once_with_its_reason(self) -> None:
        with self.channels([G, H1]) as chans:
            self.fail(chans, H1, "ValueError: bad input")
            with pytest.raises(PeerError, match="bad input") as info:
                chans[G].recv(H1, "job/k", 30)
        assert not isinstance(info.value, PeerTimeoutError)
        assert info.value.details["peer"] == str(H1)

    def test_errors_carry_stable_codes(self) -> None:
        with self.channels([G, H1]) as chans:
            chans[G].send(H1, "job/a", b"")
            with pytest.raises(CoalitionError) as info:
                chans[G].send(H1, "job/a", b"")
        assert info.value.code == "protocol.violation"

    # -- size -----------------------------------------------------------------------------------
    def test_large_payload_arrives_intact(self) -> None:
        payload = np.random.default_rng(1).integers(0, 256, 9 * MiB + 123, dtype=np.uint8)
        with self.channels([G, H1]) as chans:
            chans[G].send(H1, "job/big", payload.tobytes())
            got = chans[H1].recv(G, "job/big", 30)
        assert got == payload.tobytes()

    # -- chaos ----------------------------------------------------------------------------------
    def test_protocol_result_survives_delays_duplicates_and_reordering(self) -> None:
        def guest(ctx: Context) -> list[int]:
            for i, it in ctx.sub("round").iter(8):
                it.send(ctx.hosts, K, i)
            return [sum(it.gather(ctx.hosts, K2)) for _, it in ctx.sub("round").iter(8)]

        def host(ctx: Context) -> None:
            received = [it.recv(G, K) for _, it in ctx.sub("round").iter(8)]
            for (_, it), v in zip(ctx.sub("round").iter(8), received, strict=True):
                it.send(G, K2, v * v)

        chaos = Chaos(seed=3, max_delay=0.02, duplicate=0.5)
        wrapped: list[Channel] = []

        def wrap(channel: Channel) -> Channel:
            wrapped.append(chaos.wrap(channel))
            return wrapped[-1]

        with self.channels([G, H1, H2]) as chans:
            out = run_roles(chans, {G: guest, H1: host, H2: host}, wrap=wrap)
        assert out[G] == [2 * i * i for i in range(8)]
        stats = [w.stats for w in wrapped if isinstance(w, ChaosChannel)]
        assert sum(s.duplicated for s in stats) > 0
        assert sum(s.overtaken for s in stats) > 0


class TestMemoryTransport(ChannelContract):
    @contextmanager
    def channels(self, parties: Sequence[Party]) -> Iterator[dict[Party, Channel]]:
        hub = MemoryHub(parties)
        self._hub = hub
        yield {p: hub.channel(p) for p in parties}

    def fail(self, channels: dict[Party, Channel], party: Party, reason: str) -> None:
        self._hub.fail(party, reason)


_CA = generate_ca("contract test CA")


class TestGrpcTransport(ChannelContract):
    ca = _CA
    ids: ClassVar[dict[Party, Any]] = {p: issue_party_cert(_CA, p) for p in (G, H1, H2, A)}
    config = NetworkConfig(send_timeout=10.0, grace=0.1)

    @contextmanager
    def channels(self, parties: Sequence[Party]) -> Iterator[dict[Party, Channel]]:
        trust = Trust.federation(self.ca.cert_pem)
        with ExitStack() as stack:
            servers = {p: stack.enter_context(PeerServer("127.0.0.1:0", self.ids[p], trust,
                                                         config=self.config))
                       for p in parties}
            chans: dict[Party, Channel] = {}
            for p in parties:
                peers = {q: servers[q].address for q in parties if q != p}
                chan = GrpcChannel(servers[p], p, peers, identity=self.ids[p], trust=trust)
                stack.callback(chan.close)
                chans[p] = chan
            yield chans

    def fail(self, channels: dict[Party, Channel], party: Party, reason: str) -> None:
        chan = channels[party]
        assert isinstance(chan, GrpcChannel)
        chan.abort(reason)
