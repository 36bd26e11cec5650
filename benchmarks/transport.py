"""gRPC transport against bare grpcio, measured in the same run on loopback.

Run: ``.venv/bin/python benchmarks/transport.py [--quick]``. One JSON line per figure (format
in ../shared/BENCHMARKS.md).

* Small-message round trip (64 B): ours is a ``send`` to the peer, the peer's reply ``send``
  and our ``recv`` — two one-way messages, i.e. two gRPC calls plus mailbox hand-offs. Anchors:
  ONE unary call to a bare grpcio echo service (the issue's anchor), and bare grpcio doing our
  message pattern (two one-way unary calls into a queue). p50 and p99 over all trips.
* Bulk throughput (256 MiB): ours is ``send`` of one payload until the receiver holds it as one
  ``bytes`` object and acknowledges (4 MiB chunks; in memory under the default 512 MiB spill
  threshold, and again with the threshold lowered so it goes through disk); the anchor is a bare
  grpcio client-streaming call of the same 4 MiB chunks into a server that joins them.
* Peak RSS of each process over the run (MB); the bulk payload dominates it.

Every system runs as its own pair of ``spawn`` processes with the same kind of mutual-TLS
certificates (ECDSA P-256, TLS 1.3); the parent interleaves their repetitions so that the
shared machine's load hits all of them alike. Messages go through the transport's
``Channel`` as raw bytes, not through the codec.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit

from coalition.core.ids import Party
from coalition.transport.grpc import NetworkConfig, PeerServer, open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust, generate_ca, issue_party_cert
from coalition.transport.tls import party_dns_name as dns

MiB = 1024 * 1024
CHUNK = 4 * MiB
SMALL = 64
G, H = Party.guest(), Party.host("echo")
ANCHOR = f"bare grpcio {grpc.__version__}, same mTLS"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def serve_commands(conn: Connection, ping: Callable[[bytes], None],
                   bulk: Callable[[bytes], None]) -> None:
    """The sending side of every system: run the parent's commands, report timings."""
    payload = b""
    while True:
        cmd, arg = conn.recv()
        if cmd == "stop":
            return
        if cmd == "ping":
            small, lat = b"x" * SMALL, []
            for _ in range(arg):
                t0 = time.perf_counter()
                ping(small)
                lat.append(time.perf_counter() - t0)
            conn.send(lat)
        elif cmd == "bulk":
            if len(payload) != arg:
                payload = os.urandom(arg)  # one allocation (numpy's .bytes() briefly holds two)
            t0 = time.perf_counter()
            bulk(payload)
            conn.send(time.perf_counter() - t0)
        elif cmd == "rss":
            conn.send(rss_mb())


# -- ours ---------------------------------------------------------------------------------------
def ours_party(party: Party, ident: PartyIdentity, trust: Trust, config: NetworkConfig,
               conn: Connection) -> None:
    with PeerServer("127.0.0.1:0", ident, trust, config=config) as server:
        conn.send(server.port)
        peers = conn.recv()
        with open_grpc_context(party, listen="", peers=peers, identity=ident, trust=trust,
                               config=config, server=server, timeout=600) as ctx:
            chan, peer = ctx.channel, ctx.peers()[0]
            seq = iter(range(1 << 62))
            if party == H:  # echo small messages, acknowledge large ones, until b"stop"
                for i in seq:
                    data = chan.recv(peer, f"job/msg/{i}", 600)
                    if data == b"stop":
                        break
                    chan.send(peer, f"job/reply/{i}", data if len(data) <= SMALL else b"ok")
                    del data
                conn.send(rss_mb())
                return

            def roundtrip(data: bytes) -> None:
                i = next(seq)
                chan.send(peer, f"job/msg/{i}", data)
                chan.recv(peer, f"job/reply/{i}", 600)

            serve_commands(conn, roundtrip, roundtrip)
            chan.send(peer, f"job/msg/{next(seq)}", b"stop")
            conn.send(rss_mb())


# -- anchor 1: bare echo / upload service -------------------------------------------------------
def _upload(chunks: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
    return str(len(b"".join(list(chunks)))).encode()


def _server(ident: PartyIdentity, ca_pem: bytes, handlers: dict[str, Any]) -> tuple[Any, int]:
    server = grpc.server(ThreadPoolExecutor(8), options=[
        ("grpc.max_receive_message_length", CHUNK + MiB)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench", handlers),))
    creds = grpc.ssl_server_credentials([(ident.key_pem, ident.cert_pem)],
                                        root_certificates=ca_pem, require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    return server, port


def _client(ident: PartyIdentity, ca_pem: bytes, peer: Party, address: str) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(ca_pem, ident.key_pem, ident.cert_pem)
    return grpc.secure_channel(address, creds, options=[
        ("grpc.ssl_target_name_override", dns(peer)),
        ("grpc.max_send_message_length", CHUNK + MiB)])


def echo_party(party: Party, ident: PartyIdentity, ca_pem: bytes, conn: Connection) -> None:
    if party == H:
        server, port = _server(ident, ca_pem, {
            "Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
            "Upload": grpc.stream_unary_rpc_method_handler(_upload)})
        conn.send(port)
        conn.recv()  # peers (unused)
        conn.recv()  # stop
        conn.send(rss_mb())
        server.stop(0).wait()
        return
    conn.send(0)
    peer, address = next(iter(conn.recv().items()))
    with _client(ident, ca_pem, peer, address) as channel:
        echo = channel.unary_unary("/bench/Echo")
        upload = channel.stream_unary("/bench/Upload")

        def bulk(payload: bytes) -> None:
            view = memoryview(payload)
            got = upload((bytes(view[o:o + CHUNK]) for o in range(0, len(view), CHUNK)),
                         timeout=600)
            if int(got) != len(payload):
                raise RuntimeError("anchor upload lost bytes")

        serve_commands(conn, lambda b: echo(b, timeout=60), bulk)
    conn.send(rss_mb())


# -- anchor 2: bare grpcio with our message pattern (two one-way calls) -------------------------
def pingpong_party(party: Party, ident: PartyIdentity, ca_pem: bytes, conn: Connection) -> None:
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def push(req: bytes, ctx: grpc.ServicerContext) -> bytes:
        inbox.put(req)
        return b""

    server, port = _server(ident, ca_pem, {"Push": grpc.unary_unary_rpc_method_handler(push)})
    conn.send(port)
    peer, address = next(iter(conn.recv().items()))
    with _client(ident, ca_pem, peer, address) as channel:
        send = channel.unary_unary("/bench/Push")
        if party == H:
            while (msg := inbox.get()) != b"stop":
                send(msg, timeout=60)
        else:
            def ping(data: bytes) -> None:
                send(data, timeout=60)
                inbox.get(timeout=60)

            serve_commands(conn, ping, ping)
            send(b"stop", timeout=60)
    conn.send(rss_mb())
    server.stop(0).wait()


# -- driver -------------------------------------------------------------------------------------
class System:
    """A sender/receiver pair of processes; the sender obeys commands."""

    def __init__(self, target: Callable[..., None], args: dict[Party, tuple[Any, ...]]) -> None:
        mp = multiprocessing.get_context("spawn")
        self.ends: dict[Party, Connection] = {}
        self.procs = []
        for party, extra in args.items():
            parent, child = mp.Pipe()
            proc = mp.Process(target=target, args=(party, *extra, child))
            proc.start()
            self.ends[party], self.procs = parent, [*self.procs, proc]
        ports = {p: e.recv() for p, e in self.ends.items()}
        for party, end in self.ends.items():
            end.send({q: f"127.0.0.1:{port}" for q, port in ports.items() if q != party})

    def ask(self, cmd: str, arg: Any = None) -> Any:
        self.ends[G].send((cmd, arg))
        return self.ends[G].recv()

    def stop(self) -> dict[str, float]:
        for end in self.ends.values():
            end.send(("stop", None))
        rss = {"sender": self.ends[G].recv(), "receiver": self.ends[H].recv()}
        for proc in self.procs:
            proc.join(60)
            if proc.is_alive():
                proc.kill()
                proc.join()
        return rss


def pair_args(ca: Any, *extra: Any) -> dict[Party, tuple[Any, ...]]:
    return {p: (issue_party_cert(ca, p), *extra) for p in (G, H)}


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(values) * 1000, q)), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    blocks, trips, warm, reps = (6, 50, 50, 3) if args.quick else (20, 100, 200, 5)
    size = 256 * MiB
    ca = generate_ca("bench CA")
    trust = Trust.federation(ca.cert_pem)
    spill_cfg = NetworkConfig(spill_threshold=64 * MiB, memory_budget=256 * MiB)
    systems = {
        "ours": System(ours_party, pair_args(ca, trust, NetworkConfig())),
        "echo": System(echo_party, pair_args(ca, ca.cert_pem)),
        "pingpong": System(pingpong_party, pair_args(ca, ca.cert_pem)),
        "spilled": System(ours_party, pair_args(ca, trust, spill_cfg)),
    }
    lat: dict[str, list[float]] = {k: [] for k in ("ours", "echo", "pingpong")}
    for name in lat:
        systems[name].ask("ping", warm)
    for _ in range(blocks):  # interleaved, so load changes hit every system alike
        for name, series in lat.items():
            series.extend(systems[name].ask("ping", trips))
    bulk: dict[str, list[float]] = {k: [] for k in ("ours", "echo", "spilled")}
    for name in bulk:
        systems[name].ask("bulk", size)  # warm-up, and the payload is allocated
    for _ in range(reps):
        for name, times in bulk.items():
            times.append(systems[name].ask("bulk", size))
    rss = {name: system.stop() for name, system in systems.items()}

    params = {"message_bytes": SMALL, "trips": blocks * trips, "tls": "mutual, TLS 1.3, P-256",
              "ours": "send + peer's reply send + recv (2 one-way gRPC calls)"}
    for q in (50, 99):
        emit(f"transport.grpc.small_roundtrip_p{q}", unit="ms", ours=pct(lat["ours"], q),
             anchor=f"{ANCHOR}, one unary echo call", anchor_value=pct(lat["echo"], q),
             higher_is_better=False, params=params,
             **({"target": "ours <= 2x anchor"} if q == 50 else {}))
    emit("transport.grpc.small_roundtrip_p50_vs_bare_pingpong", unit="ms",
         ours=pct(lat["ours"], 50),
         anchor=f"{ANCHOR}, two one-way unary calls into a queue (our message pattern)",
         anchor_value=pct(lat["pingpong"], 50), higher_is_better=False, params=params)

    mbs = {k: round(size / MiB / statistics.median(v), 1) for k, v in bulk.items()}
    common = {"payload_mib": size // MiB, "chunk_mib": CHUNK // MiB, "reps": reps}
    anchor = f"{ANCHOR}, client-streaming upload of the same 4 MiB chunks, joined"
    emit("transport.grpc.bulk_throughput", unit="MB/s", ours=mbs["ours"], anchor=anchor,
         anchor_value=mbs["echo"], higher_is_better=True, target="ratio >= 0.7",
         params={**common, "ours": "send until the receiver holds one bytes object and "
                                   "acks; in memory (default 512 MiB spill threshold)"})
    emit("transport.grpc.bulk_throughput_spilled", unit="MB/s", ours=mbs["spilled"],
         anchor=anchor, anchor_value=mbs["echo"], higher_is_better=True,
         params={**common, "ours": "same with spill threshold 64 MiB: written to disk as "
                                   "it streams, read back by recv"})
    payload_mb = size / MiB
    for bench, name in (("bulk_peak_rss", "ours"), ("bulk_peak_rss_spilled", "spilled")):
        worst = round(max(rss[name].values()), 1)
        emit(f"transport.grpc.{bench}", unit="MB", ours=worst, anchor=f"{ANCHOR}, same transfer",
             anchor_value=round(max(rss["echo"].values()), 1), higher_is_better=False,
             target="ours <= 2x payload",
             params={"payload_mib": size // MiB, "ours_over_payload": round(worst / payload_mb, 2),
                     **{f"{k}_{side}_mb": round(v, 1) for k in (name, "echo")
                        for side, v in rss[k].items()}})


if __name__ == "__main__":
    main()
