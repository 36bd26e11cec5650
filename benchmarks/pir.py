"""PIR benchmark: keyword PIR from an OPRF (download-all and bucketed) and OT-with-decoys
(k = 100), side by side in one run.

    .venv/bin/python benchmarks/pir.py --quick    # 20k-row table (says so in params)
    .venv/bin/python benchmarks/pir.py            # 1,000,000-row table

Table: ``rows`` phone-number-like IDs with a 32-byte payload each, built with a 2-worker process
pool (``--workers``). Batch: 1,000 IDs, half in the table (padded to 1,024). Both roles run in
this process on the in-memory hub (the wire format and byte counts are those of gRPC; only the
socket is missing), each with its own 2-worker pool.

Lines: table build time (target <= 80 s on 2 cores at 1M rows); per mode the server's online
time per batch (the blinded evaluation, plus bucket assembly or the OT answers; target <= 0.2 s),
the client's time for the batch (after the table download), bytes each way per batch, and the
table download per epoch. Anchor: SecretFlow APSI keyword PIR, one query against 1M rows,
494 ms (published, LAN; it cannot run here) — ``ratio`` compares our time for a whole
1,000-ID batch with APSI's time for one query, so it understates us per query.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, peak_rss_mb

APSI_ONE_QUERY_S = 0.494
APSI = "SecretFlow APSI keyword PIR, 1 query vs 1M rows (published, LAN; not run here)"


def make_table(rows: int) -> tuple[list[str], list[bytes]]:
    import numpy as np

    ids = [f"1{3800000000 + i * 7:010d}" for i in range(rows)]
    rng = np.random.Generator(np.random.PCG64(12345))  # benchmark data, not a secret
    raw = rng.integers(0, 256, size=(rows, 32), dtype=np.uint8).tobytes()
    return ids, [raw[i * 32:(i + 1) * 32] for i in range(rows)]


def make_batch(ids: list[str], n: int = 1000) -> list[str]:
    step = max(1, len(ids) // (n // 2))
    hits = ids[::step][: n // 2]
    misses = [f"2{i:010d}" for i in range(n - len(hits))]
    return [x for pair in zip(hits, misses, strict=False) for x in pair] + misses[len(hits):]


def run_mode(table: Any, batch: list[str], mode: str, cache_dir: Path, reps: int,
             workers: int) -> dict[str, Any]:
    from coalition.compute import ProcessExecutor
    from coalition.core import Party
    from coalition.protocols.pir import run_client, run_server
    from coalition.protocols.psi import ClientTableCache
    from coalition.testing import run_parties

    client, server = Party.guest("bank"), Party.host("telco")
    cache = ClientTableCache(cache_dir)
    ex_c, ex_s = ProcessExecutor(workers), ProcessExecutor(workers)
    params = {"mode": mode, "decoys": 100}

    def as_client(ctx: Any) -> Any:
        ctx.executor = ex_c
        return run_client(ctx, batch, server_key=table.verify_key, params=params, cache=cache)

    def as_server(ctx: Any) -> Any:
        ctx.executor = ex_s
        return run_server(ctx, table)

    runs = []
    try:
        for _ in range(reps + 1):  # the first run downloads the table and warms the pools
            out = run_parties({client: as_client, server: as_server}, timeout=600)
            runs.append((out[client], out[server]))
    finally:
        ex_c.shutdown()
        ex_s.shutdown()
    first, steady = runs[0], runs[1:]
    res = first[0]
    expected = sum(1 for x in batch if not x.startswith("2"))
    if res.summary.found != expected:
        raise SystemExit(f"{mode}: found {res.summary.found}, expected {expected}")
    return {
        "online_s": statistics.median(s.online_s for _, s in steady),
        "client_s": statistics.median(c.summary.seconds - s.online_s for c, s in steady),
        "sent": statistics.median(c.summary.bytes_sent for c, _ in steady),
        "received": statistics.median(c.summary.bytes_received for c, _ in steady),
        "first_received": first[0].summary.bytes_received,
        "transfer": [c.summary.table_transfer for c, _ in runs],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    base = {"rows": rows, "payload_bytes": 32, "batch": 1000, "padded": 1024,
            "workers": args.workers, "quick": args.quick,
            **({"note": "--quick: smaller table than the 1M-row target"} if args.quick else {})}

    from coalition.compute import ProcessExecutor
    from coalition.protocols.pir import PirTable, TableSettings
    from coalition.protocols.pir.oprf import server as pir_server

    ids, payloads = make_table(rows)
    batch = make_batch(ids)
    ex = ProcessExecutor(args.workers)
    ex.map(abs, [1, 2])  # start the pool outside the timing (as a running server would)
    events: list[tuple[str, int, float]] = []

    def progress(stage: str, done: int, total: int) -> None:
        events.append((stage, done, time.perf_counter()))

    table = PirTable(TableSettings("bench", 32, bucket_bits=12 if rows >= 500_000 else 8))
    t0 = time.perf_counter()
    table.sync(ids, payloads, executor=ex, progress=progress)
    build_s = time.perf_counter() - t0
    prf = [t for stage, _, t in events if stage.startswith("PRF")]
    enc = [t for stage, _, t in events if stage.startswith("encrypt")]
    stages = {"canonicalise_pad_digest": prf[0] - t0, "prf_new_ids": prf[-1] - prf[0],
              "lookup_and_match": (enc[0] if enc else prf[-1]) - prf[-1],
              "encrypt": (enc[-1] - enc[0]) if enc else 0.0,
              "sort_merkle_sign": t0 + build_s - (enc[-1] if enc else prf[-1])}
    stages = {k: round(v, 2) for k, v in stages.items()}
    emit("pir.table_build", unit="s", ours=round(build_s, 2),
         anchor="issue target on 2 cores (1M rows)", anchor_value=80.0 * rows / 1_000_000,
         higher_is_better=False, params={**base, "stages_s": stages,
                                         "rss_mb": round(peak_rss_mb(), 1)})

    # the bare online step alone, on the server's pool: 1,024 blinded elements
    from coalition.crypto import oprf

    _, blinded = oprf.blind([x.encode() for x in batch[:1000]] + [b"pad"] * 24)
    pir_server.evaluate_blinded(table.prf.key, blinded, ex)
    times = []
    for _ in range(max(3, args.reps)):
        t = time.perf_counter()
        pir_server.evaluate_blinded(table.prf.key, blinded, ex)
        times.append(time.perf_counter() - t)
    emit("pir.oprf.server_evaluate_1024", unit="s", ours=round(statistics.median(times), 4),
         anchor=APSI, anchor_value=APSI_ONE_QUERY_S, higher_is_better=False, params=base)

    # modes over the protocol (server and client each with their own pool via run_parties)
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("download", "bucketed", "ot_decoys"):
            r = run_mode(table, batch, mode, Path(tmp) / mode, args.reps, args.workers)
            params = {**base, "mode": mode, "bytes_client_to_server": r["sent"],
                      "bytes_server_to_client": r["received"], "client_s": round(r["client_s"], 4),
                      "table_transfer": r["transfer"]}
            if mode == "download":
                params["download_per_epoch_bytes"] = r["first_received"]
            if mode == "bucketed":
                params["bucket_bits"] = table.settings.bucket_bits
                params["k_anonymity_rows"] = rows >> table.settings.bucket_bits
            if mode == "ot_decoys":
                params["decoys"] = 100
            emit(f"pir.{mode}.server_online_per_batch", unit="s", ours=round(r["online_s"], 4),
                 anchor=APSI, anchor_value=APSI_ONE_QUERY_S, higher_is_better=False,
                 params=params)
            emit(f"pir.{mode}.client_per_batch", unit="s", ours=round(r["client_s"], 4),
                 anchor=APSI, anchor_value=APSI_ONE_QUERY_S, higher_is_better=False,
                 params={**base, "mode": mode})
    ex.shutdown()


if __name__ == "__main__":
    main()
