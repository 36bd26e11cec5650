"""gRPC transport against bare grpcio, measured in the same run on loopback.

Run: ``.venv/bin/python benchmarks/transport.py [--quick]``. One JSON line per figure (format
in ../shared/BENCHMARKS.md).

* Small-message round trip (64 B): ours is one ``send`` to the peer plus the peer's reply
  ``send`` and our ``recv`` — two one-way messages, i.e. two gRPC calls plus mailbox hand-offs;
  the anchor is ONE unary call to a bare grpcio echo service. p50 and p99 over N trips.
* Bulk throughput (256 MiB payload): ours is ``send`` of one payload until the receiver holds
  it as one ``bytes`` object (streamed in 4 MiB chunks, spilled to disk beyond 64 MiB and read
  back) and acknowledges; the anchor is a bare grpcio client-streaming call of the same 4 MiB
  chunks into a server that joins them into one ``bytes``. Median of reps after a warm-up.
* Peak RSS of the sending and the receiving process during the bulk phase (MB).

Both sides of both systems run in separate ``spawn`` processes with the same mutual-TLS
certificates (ECDSA P-256, TLS 1.3), so the ratio isolates Coalition's overhead over gRPC.
Messages go through the transport's ``Channel`` (raw bytes), not the codec.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit  # noqa: E402

from coalition.core import Context  # noqa: E402
from coalition.testing import run_parties  # noqa: E402
from coalition.core.ids import Party  # noqa: E402
from coalition.transport.tls import (  # noqa: E402
    NodeIdentity,
    Trust,
    generate_ca,
    issue_node_cert,
    party_dns_name,
)

MiB = 1024 * 1024
CHUNK = 4 * MiB
SMALL = 64
G, H = Party.guest(), Party.host("echo")
ANCHOR = f"bare grpcio {grpc.__version__}, same mTLS"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def payload_of(size: int) -> bytes:
    return np.random.default_rng(0).bytes(size)


# -- ours: two parties over coalition.transport.grpc ---------------------------------------------
def ours_sender(ctx: Context, *, trips: int, warm: int, size: int, reps: int) -> dict[str, Any]:
    chan, peer = ctx.channel, ctx.hosts[0]
    small, lat = b"x" * SMALL, []
    for i in range(warm + trips):
        t0 = time.perf_counter()
        chan.send(peer, f"job/ping/{i}", small)
        chan.recv(peer, f"job/pong/{i}", 60)
        if i >= warm:
            lat.append(time.perf_counter() - t0)
    payload = payload_of(size)
    rss_before, times = rss_mb(), []
    for r in range(1 + reps):
        t0 = time.perf_counter()
        chan.send(peer, f"job/bulk/{r}", payload)
        chan.recv(peer, f"job/ack/{r}", 300)
        if r:
            times.append(time.perf_counter() - t0)
    return {"lat": lat, "times": times, "rss_before": rss_before, "rss_peak": rss_mb()}


def ours_receiver(ctx: Context, *, trips: int, warm: int, size: int, reps: int) -> dict[str, Any]:
    chan, peer = ctx.channel, ctx.guest
    for i in range(warm + trips):
        chan.send(peer, f"job/pong/{i}", chan.recv(peer, f"job/ping/{i}", 60))
    rss_before = rss_mb()
    for r in range(1 + reps):
        data = chan.recv(peer, f"job/bulk/{r}", 300)
        ok = len(data) == size
        del data
        chan.send(peer, f"job/ack/{r}", b"ok" if ok else b"short")
    return {"rss_before": rss_before, "rss_peak": rss_mb()}


# -- anchor: bare grpcio echo / upload service ----------------------------------------------------
def _upload(chunks: Any, context: grpc.ServicerContext) -> bytes:
    data = b"".join(list(chunks))
    return str(len(data)).encode()


def anchor_server(ident: NodeIdentity, ca_pem: bytes, conn: Connection) -> None:
    server = grpc.server(ThreadPoolExecutor(8), options=[
        ("grpc.max_receive_message_length", CHUNK + MiB)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
        "Upload": grpc.stream_unary_rpc_method_handler(_upload),
        "Rss": grpc.unary_unary_rpc_method_handler(lambda req, ctx: str(rss_mb()).encode()),
    }),))
    creds = grpc.ssl_server_credentials([(ident.key_pem, ident.cert_pem)],
                                        root_certificates=ca_pem, require_client_auth=True)
    conn.send(server.add_secure_port("127.0.0.1:0", creds))
    server.start()
    conn.recv()  # told to stop
    server.stop(0).wait()


def anchor_client(ident: NodeIdentity, ca_pem: bytes, port: int, trips: int, warm: int,
                  size: int, reps: int, conn: Connection) -> None:
    creds = grpc.ssl_channel_credentials(ca_pem, ident.key_pem, ident.cert_pem)
    with grpc.secure_channel(f"127.0.0.1:{port}", creds, options=[
            ("grpc.ssl_target_name_override", party_dns_name(H)),
            ("grpc.max_send_message_length", CHUNK + MiB)]) as channel:
        echo = channel.unary_unary("/bench.Echo/Echo")
        upload = channel.stream_unary("/bench.Echo/Upload")
        rss = channel.unary_unary("/bench.Echo/Rss")
        small, lat = b"x" * SMALL, []
        for i in range(warm + trips):
            t0 = time.perf_counter()
            echo(small, timeout=60)
            if i >= warm:
                lat.append(time.perf_counter() - t0)
        payload = payload_of(size)
        rss_before, server_before, times = rss_mb(), float(rss(b"")), []
        view = memoryview(payload)
        for r in range(1 + reps):
            t0 = time.perf_counter()
            got = upload((bytes(view[o:o + CHUNK]) for o in range(0, size, CHUNK)), timeout=300)
            if int(got) != size:
                raise RuntimeError("anchor upload lost bytes")
            if r:
                times.append(time.perf_counter() - t0)
        conn.send({"lat": lat, "times": times, "rss_before": rss_before, "rss_peak": rss_mb(),
                   "server_rss_before": server_before, "server_rss_peak": float(rss(b""))})


def run_anchor(trips: int, warm: int, size: int, reps: int) -> dict[str, Any]:
    ca = generate_ca("bench CA")
    mp = multiprocessing.get_context("spawn")
    srv_end, srv_child = mp.Pipe()
    cli_end, cli_child = mp.Pipe()
    server = mp.Process(target=anchor_server, args=(issue_node_cert(ca, H), ca.cert_pem,
                                                    srv_child))
    server.start()
    port = srv_end.recv()
    client = mp.Process(target=anchor_client, args=(issue_node_cert(ca, G), ca.cert_pem, port,
                                                    trips, warm, size, reps, cli_child))
    client.start()
    try:
        out: dict[str, Any] = cli_end.recv()
    finally:
        srv_end.send("stop")
        for proc in (client, server):
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    trips, warm, reps = (300, 50, 2) if args.quick else (2000, 200, 5)
    size = 256 * MiB
    kw = {"trips": trips, "warm": warm, "size": size, "reps": reps}
    ours = run_parties({G: functools.partial(ours_sender, **kw),
                        H: functools.partial(ours_receiver, **kw)},
                       transport="grpc", timeout=300)
    anchor = run_anchor(trips, warm, size, reps)
    params = {"message_bytes": SMALL, "trips": trips, "tls": "mutual, TLS 1.3, P-256",
              "ours": "send + peer reply send (2 one-way gRPC calls)",
              "anchor_shape": "1 unary echo call"}
    for q in (50, 99):
        o, a = round(pct(ours[G]["lat"], q), 3), round(pct(anchor["lat"], q), 3)
        emit(f"transport.grpc.small_roundtrip_p{q}", unit="ms", ours=o,
             anchor=f"{ANCHOR}, unary echo", anchor_value=a, higher_is_better=False,
             params=params, target="ours <= 2x anchor" if q == 50 else None)
    o_mbs = round(size / MiB / statistics.median(ours[G]["times"]), 1)
    a_mbs = round(size / MiB / statistics.median(anchor["times"]), 1)
    payload_mb = size / MiB
    emit("transport.grpc.bulk_throughput", unit="MB/s", ours=o_mbs,
         anchor=f"{ANCHOR}, client-streaming upload of the same 4 MiB chunks",
         anchor_value=a_mbs, higher_is_better=True,
         params={"payload_mib": size // MiB, "chunk_mib": CHUNK // MiB, "reps": reps,
                 "ours": "send until the receiver holds the bytes and acks (spilled to disk)"},
         target="ratio >= 0.7")
    rss = {"sender_peak_mb": round(ours[G]["rss_peak"], 1),
           "receiver_peak_mb": round(ours[H]["rss_peak"], 1),
           "anchor_client_peak_mb": round(anchor["rss_peak"], 1),
           "anchor_server_peak_mb": round(anchor["server_rss_peak"], 1)}
    worst = max(rss["sender_peak_mb"], rss["receiver_peak_mb"])
    anchor_worst = max(rss["anchor_client_peak_mb"], rss["anchor_server_peak_mb"])
    emit("transport.grpc.bulk_peak_rss", unit="MB", ours=worst,
         anchor=f"{ANCHOR}, same transfer", anchor_value=anchor_worst, higher_is_better=False,
         params={"payload_mib": size // MiB, **rss,
                 "ours_over_payload": round(worst / payload_mb, 2)},
         target="ours <= 2x payload")


if __name__ == "__main__":
    main()
