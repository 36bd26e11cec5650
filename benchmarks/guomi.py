"""The national-algorithm (``sm``) suite against the standard one, measured in the same run.

    .venv/bin/python benchmarks/guomi.py --quick   # PSI at 4k per side
    .venv/bin/python benchmarks/guomi.py           # PSI at 100k per side

Lines (``../shared/BENCHMARKS.md`` format):

* ``guomi.sm2_mul`` — SM2 variable-base scalar multiplications per second (libcrypto through
  ctypes, compressed points in and out, one scalar over a batch of points as ECDH-PSI applies
  it: ``Sm2Curve.scalarmult_many``) against X25519 (``cryptography``) on one core; ``params``
  also gives the one-call-per-point rate;
* ``guomi.psi_ecdh.100k`` — 2-party ECDH-PSI under the ``sm`` suite (SM2, SM3 hash-to-curve)
  over gRPC with mTLS between two processes, against the ``standard`` suite (X25519) on the same
  sets in the same run; ``--quick`` runs 4k per side (``params.n`` says which);
* ``guomi.psi_kkrt.100k`` — 2-party KKRT PSI under ``sm`` (SM2 base OTs, SM4 OT extension)
  against ``standard`` (edwards25519, AES-NI), same setup and sets as the ECDH line;
* ``guomi.sm3`` — SM3 MB/s against SHA-256 (both OpenSSL through ``cryptography``), 1 MiB blocks;
* ``guomi.sm4`` — SM4-GCM MB/s against AES-128-GCM, 1 MiB messages.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, median_time
from psi import make_ids


def bench_sm2_mul(count: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from coalition.crypto.sm import SM2

    scalar = SM2.random_scalar()
    point = SM2.scalarmult_base(SM2.random_scalar())
    points = [point] * count
    sm2_s = median_time(lambda: SM2.scalarmult_many(scalar, points))
    single_s = median_time(lambda: [SM2.scalarmult(scalar, point) for _ in range(count)])
    key = X25519PrivateKey.generate()
    peer = X25519PrivateKey.generate().public_key()
    x_s = median_time(lambda: [key.exchange(peer) for _ in range(count)])
    emit("guomi.sm2_mul", unit="ops/s", ours=round(count / sm2_s), anchor="X25519 (cryptography)",
         anchor_value=round(count / x_s), higher_is_better=True,
         params={"count": count, "cores": 1, "per_point_calls_ops_s": round(count / single_s),
                 "impl": "OpenSSL libcrypto EC_POINT_mul via ctypes, batched per scalar"})


def bench_hash(size_mb: int) -> None:
    from cryptography.hazmat.primitives import hashes

    data = secrets.token_bytes(1 << 20)

    def run(algorithm: hashes.HashAlgorithm) -> float:
        def once() -> None:
            digest = hashes.Hash(algorithm)
            for _ in range(size_mb):
                digest.update(data)
            digest.finalize()

        return size_mb / median_time(once)

    emit("guomi.sm3", unit="MB/s", ours=round(run(hashes.SM3()), 1), anchor="SHA-256 (OpenSSL)",
         anchor_value=round(run(hashes.SHA256()), 1), higher_is_better=True,
         params={"mb": size_mb, "block": "1 MiB"})


def bench_aead(size_mb: int) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from coalition.crypto.sm import Sm4Gcm

    data = secrets.token_bytes(1 << 20)
    nonce = bytes(12)

    def run(aead: Any) -> float:
        return size_mb / median_time(lambda: [aead.encrypt(nonce, data, b"") for _ in range(size_mb)])

    emit("guomi.sm4", unit="MB/s", ours=round(run(Sm4Gcm(Sm4Gcm.generate_key())), 1),
         anchor="AES-128-GCM (OpenSSL)", anchor_value=round(run(AESGCM(AESGCM.generate_key(128))), 1),
         higher_is_better=True, params={"mb": size_mb, "message": "1 MiB", "mode": "GCM"})


def party(ctx: Any, *, side: str, n: int, suite: str, workers: int,
          protocol: str = "ecdh") -> dict[str, Any]:
    from coalition.compute import ProcessExecutor
    from coalition.protocols.psi import IdSet, run_guest, run_host

    ids = IdSet.build(make_ids(n, side))
    ex = ProcessExecutor(workers)
    ctx.executor = ex
    start = time.time()
    fn = run_guest if side == "guest" else run_host
    result = fn(ctx, ids, {"protocol": protocol, "delivery": "both", "suite": suite})
    end = time.time()
    ex.shutdown()
    return {"start": start, "end": end, "size": result.size, "sent": result.summary.bytes_sent}


def run_psi(n: int, suite: str, workers: int, protocol: str = "ecdh") -> dict[str, Any]:
    from coalition.core import Party
    from coalition.testing import run_parties

    g_party, h_party = Party.guest(), Party.host("h1")
    kw = {"n": n, "suite": suite, "workers": workers, "protocol": protocol}
    out = run_parties({g_party: partial(party, side="guest", **kw),
                       h_party: partial(party, side="host", **kw)},
                      transport="grpc", timeout=3600)
    g, h = out[g_party], out[h_party]
    if g["size"] != n // 2 or h["size"] != n // 2:
        raise SystemExit(f"{suite}: wrong intersection size {g['size']}, {h['size']}")
    return {"wall": max(g["end"], h["end"]) - min(g["start"], h["start"]),
            "bytes": g["sent"] + h["sent"]}


def bench_psi(n: int, workers: int) -> None:
    standard = run_psi(n, "standard", workers)
    sm = run_psi(n, "sm", workers)
    emit("guomi.psi_ecdh.100k", unit="s", ours=round(sm["wall"], 2),
         anchor="our ECDH-PSI, standard suite (X25519)", anchor_value=round(standard["wall"], 2),
         higher_is_better=False,
         params={"n": n, "overlap": 0.5, "processes": 2, "transport": "grpc+mTLS loopback",
                 "workers_per_party": workers, "delivery": "both"},
         bytes_on_wire={"sm": sm["bytes"], "standard": standard["bytes"]})


def bench_kkrt(n: int, workers: int) -> None:
    standard = run_psi(n, "standard", workers, "kkrt")
    sm = run_psi(n, "sm", workers, "kkrt")
    emit("guomi.psi_kkrt.100k", unit="s", ours=round(sm["wall"], 2),
         anchor="our KKRT PSI, standard suite (edwards25519 base OTs, AES)",
         anchor_value=round(standard["wall"], 2), higher_is_better=False,
         params={"n": n, "overlap": 0.5, "processes": 2, "transport": "grpc+mTLS loopback",
                 "workers_per_party": workers, "delivery": "both"},
         bytes_on_wire={"sm": sm["bytes"], "standard": standard["bytes"]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    bench_sm2_mul(500 if args.quick else 3000)
    bench_hash(16 if args.quick else 128)
    bench_aead(16 if args.quick else 128)
    bench_psi(4_000 if args.quick else 100_000, args.workers)
    bench_kkrt(4_000 if args.quick else 100_000, args.workers)


if __name__ == "__main__":
    main()
