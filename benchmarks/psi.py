"""PSI benchmark: 2-party ECDH-PSI over the gRPC transport (two processes, mTLS on loopback)
against openmined-psi on the same sets, measured in the same run.

    .venv/bin/python benchmarks/psi.py --quick    # 100k x 100k
    .venv/bin/python benchmarks/psi.py            # 100k x 100k and 1M x 1M

Sets: n IDs each, 50% overlap. Ours: wall seconds of the slower party from raw IDs to result
(canonicalisation, hashing, both X25519 stages over a 2-worker process pool per party,
matching, delivery to both); bytes on the wire = payload bytes both parties sent; peak RSS per
party process and per worker pool. Anchor: openmined-psi (P-256 ECDH, one process,
reveal_intersection=True), setup + request + response + intersection, same IDs.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, peak_rss_mb


def make_ids(n: int, side: str) -> list[str]:
    start = 0 if side == "guest" else n // 2
    return [f"cust-{i:012d}" for i in range(start, start + n)]


def party(ctx: Any, *, side: str, n: int, workers: int) -> dict[str, Any]:
    from coalition.compute import ProcessExecutor
    from coalition.protocols.psi import run_guest, run_host

    ids = make_ids(n, side)
    ex = ProcessExecutor(workers)
    ctx.executor = ex
    t0 = time.perf_counter()
    fn = run_guest if side == "guest" else run_host
    result = fn(ctx, ids, {"protocol": "ecdh", "delivery": "both"})
    seconds = time.perf_counter() - t0
    ex.shutdown()
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return {"seconds": seconds, "cpu_s": cpu, "size": result.size, "sent": result.summary.bytes_sent,
            "rss_mb": round(peak_rss_mb(), 1),
            "workers_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                                    / 1024.0, 1),
            "truncated_bytes": result.summary.extra.get("truncated_bytes")}


def run_ours(n: int, workers: int) -> dict[str, Any]:
    from coalition.core import Party
    from coalition.testing import run_parties

    G, H = Party.guest(), Party.host("h1")
    t0 = time.perf_counter()
    out = run_parties({G: partial(party, side="guest", n=n, workers=workers),
                       H: partial(party, side="host", n=n, workers=workers)},
                      transport="grpc", timeout=900)
    total = time.perf_counter() - t0
    g, h = out[G], out[H]
    if g["size"] != n // 2 or h["size"] != n // 2:
        raise SystemExit(f"wrong intersection size: {g['size']}, {h['size']}")
    return {"seconds": max(g["seconds"], h["seconds"]), "with_startup_s": round(total, 2),
            "cpu_s": g["cpu_s"] + h["cpu_s"],
            "bytes": g["sent"] + h["sent"], "guest": g, "host": h}


def run_openmined(n: int) -> tuple[float, float]:
    import private_set_intersection.python as om

    client_ids, server_ids = make_ids(n, "guest"), make_ids(n, "host")
    t0, c0 = time.perf_counter(), time.process_time()
    c = om.client.CreateWithNewKey(True)
    s = om.server.CreateWithNewKey(True)
    setup = s.CreateSetupMessage(1e-9, len(client_ids), server_ids, om.DataStructure.RAW)
    response = s.ProcessRequest(c.CreateRequest(client_ids))
    size = len(c.GetIntersection(setup, response))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if size != n // 2:
        raise SystemExit(f"openmined-psi wrong size {size}")
    return seconds, cpu


def bench(n: int, reps: int, workers: int, with_anchor: bool = True) -> None:
    ours = [run_ours(n, workers) for _ in range(reps)]
    anchors = [run_openmined(n) for _ in range(reps)] if with_anchor else []
    anchor = statistics.median(a[0] for a in anchors) if anchors else None
    anchor_cpu = statistics.median(a[1] for a in anchors) if anchors else None
    best = sorted(ours, key=lambda r: r["seconds"])[len(ours) // 2]
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
    emit(f"psi.ecdh.2party.{label}", unit="s", ours=round(best["seconds"], 2),
         anchor="openmined-psi 2.0.4 (P-256 ECDH, 1 process, same sets, same run)"
         if anchor is not None else "openmined-psi: not measured in this run (--no-anchor)",
         anchor_value=round(anchor, 2) if anchor is not None else None, higher_is_better=False,
         params={"n_guest": n, "n_host": n, "overlap": 0.5, "transport": "grpc+mTLS loopback",
                 "processes": 2, "workers_per_party": workers, "reps": reps,
                 "delivery": "both"},
         bytes_on_wire=best["bytes"],
         # load-independent view on a shared machine: CPU seconds of both parties (+ workers)
         cpu_seconds={"ours": round(best["cpu_s"], 1),
                      "anchor": round(anchor_cpu, 1) if anchor_cpu is not None else None},
         projected_2core_idle_s=round(best["cpu_s"] / 2, 1), wall_with_process_startup_s=best["with_startup_s"],
         truncated_bytes=best["guest"]["truncated_bytes"],
         peak_rss_mb={"guest": best["guest"]["rss_mb"], "host": best["host"]["rss_mb"],
                      "guest_workers": best["guest"]["workers_rss_mb"],
                      "host_workers": best["host"]["workers_rss_mb"]},
         target={"ratio_min": 4.0, "seconds_max_1M": 150})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="100k x 100k only, one repetition")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="override set sizes")
    ap.add_argument("--no-anchor", action="store_true", help="skip openmined-psi (ratio null)")
    args = ap.parse_args()
    sizes = args.sizes or ([100_000] if args.quick else [100_000, 1_000_000])
    for n in sizes:
        reps = args.reps or (1 if args.quick or n >= 1_000_000 else 3)
        bench(n, reps, args.workers, with_anchor=not args.no_anchor)


if __name__ == "__main__":
    main()
