"""gRPC-only behaviour: unreachable peers, reconnects, spilling, one-party contexts."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from coalition.core import ConfigError, Context, MessageKey, Party, PeerError
from coalition.transport.grpc import GrpcChannel, NetworkConfig, PeerServer, open_grpc_context
from coalition.transport.tls import Trust, generate_ca, issue_party_cert

G, H = Party.guest(), Party.host("h1")
CA = generate_ca("network test CA")
TRUST = Trust.federation(CA.cert_pem)
IDS = {G: issue_party_cert(CA, G), H: issue_party_cert(CA, H)}
KEY = MessageKey("value")
REPLY = MessageKey("reply")
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_peer_that_stays_down_gives_a_typed_error_within_the_send_timeout() -> None:
    config = NetworkConfig(send_timeout=0.8, backoff_initial=0.05, backoff_max=0.2)
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as server:
        chan = GrpcChannel(server, G, {H: f"127.0.0.1:{free_port()}"}, identity=IDS[G],
                           trust=TRUST)
        try:
            with pytest.raises(PeerError, match="unreachable") as info:
                chan.send(H, "job/k", b"x")
        finally:
            chan.close()
    assert info.value.details["peer"] == str(H)
    assert info.value.details["key"] == "job/k"
    assert info.value.details["attempts"] > 1  # it did retry with backoff


def test_send_reconnects_when_the_peer_comes_up_late() -> None:
    config = NetworkConfig(send_timeout=20.0, backoff_initial=0.05, backoff_max=0.2)
    port = free_port()
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as g_server:
        chan = GrpcChannel(g_server, G, {H: f"127.0.0.1:{port}"}, identity=IDS[G],
                           trust=TRUST)
        h_server = PeerServer(f"127.0.0.1:{port}", IDS[H], TRUST, config=config)
        started = threading.Event()

        def start_late() -> None:
            time.sleep(0.5)
            h_server.start()
            started.set()

        starter = threading.Thread(target=start_late)
        starter.start()
        try:
            chan.send(H, "job/k", b"after the outage")
            assert started.is_set()
            assert h_server.mailbox("job", "task", H).take(G, "job/k", 5) == b"after the outage"
        finally:
            starter.join()
            chan.close()
            h_server.stop()


def test_binding_a_busy_port_is_a_config_error() -> None:
    with PeerServer("127.0.0.1:0", IDS[G], TRUST) as first, pytest.raises(ConfigError):
        PeerServer(first.address, IDS[H], TRUST).start()


def test_large_payload_spills_to_disk_and_the_file_is_removed(tmp_path: Path) -> None:
    config = NetworkConfig(chunk_bytes=1 * MiB, spill_threshold=2 * MiB, spill_dir=tmp_path,
                           send_timeout=20.0)
    payload = np.random.default_rng(2).integers(0, 256, 5 * MiB + 7, dtype=np.uint8).tobytes()
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as gs, \
            PeerServer("127.0.0.1:0", IDS[H], TRUST, config=config) as hs:
        g = GrpcChannel(gs, G, {H: hs.address}, identity=IDS[G], trust=TRUST)
        h = GrpcChannel(hs, H, {G: gs.address}, identity=IDS[H], trust=TRUST)
        try:
            g.send(H, "job/big", payload)
            spilled = list(tmp_path.rglob("*.msg"))
            assert len(spilled) == 1 and spilled[0].stat().st_size == len(payload)
            assert h.recv(G, "job/big", 10) == payload
            assert list(tmp_path.rglob("*.msg")) == []
            assert hs._spool.in_memory == 0
        finally:
            g.close()
            h.close()
    assert list(tmp_path.iterdir()) == []  # the spool directory went with the server


def guest_role(ctx: Context) -> int:
    ctx.send(ctx.hosts, KEY, np.arange(5))
    reply: int = ctx.recv(ctx.hosts[0], REPLY)
    return reply


def host_role(ctx: Context) -> None:
    ctx.send(ctx.guest, REPLY, int(ctx.recv(ctx.guest, KEY).sum()))


def test_open_grpc_context_runs_a_party_per_context() -> None:
    ports = {G: free_port(), H: free_port()}
    results: dict[Party, object] = {}

    def run(party: Party, role: object) -> None:
        peer = H if party == G else G
        with open_grpc_context(party, listen=f"127.0.0.1:{ports[party]}",
                               peers={peer: f"127.0.0.1:{ports[peer]}"}, identity=IDS[party],
                               trust=TRUST, job_id="job-1", timeout=20) as ctx:
            results[party] = role(ctx)  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(G, guest_role)),
               threading.Thread(target=run, args=(H, host_role))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {G: 10, H: None}


def test_open_grpc_context_tells_peers_when_the_block_fails() -> None:
    ports = {G: free_port(), H: free_port()}
    errors: dict[Party, BaseException] = {}

    def run(party: Party) -> None:
        peer = H if party == G else G
        try:
            with open_grpc_context(party, listen=f"127.0.0.1:{ports[party]}",
                                   peers={peer: f"127.0.0.1:{ports[peer]}"},
                                   identity=IDS[party], trust=TRUST, timeout=30) as ctx:
                if party == H:
                    time.sleep(0.3)  # let the guest start waiting
                    raise ValueError("host input rejected")
                ctx.recv(H, KEY)
        except BaseException as exc:
            errors[party] = exc

    threads = [threading.Thread(target=run, args=(p,)) for p in (G, H)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(errors[H], ValueError)
    assert isinstance(errors[G], PeerError) and "host input rejected" in str(errors[G])
