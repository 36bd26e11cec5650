"""PSI benchmark: our 2-party engines over the gRPC transport (two processes, mTLS on
loopback) against openmined-psi on the same sets, measured in the same run.

    .venv/bin/python benchmarks/psi.py --quick   # ECDH + KKRT at 100k, KKRT at 1M, openmined 100k
    .venv/bin/python benchmarks/psi.py           # + ECDH at 1M, 3 repetitions at 100k
    .venv/bin/python benchmarks/psi.py --quick --only ecdh   # ECDH 100k + openmined anchor only

Sets: n random 16-hex-digit string IDs per party, 50% overlap, delivery ``both``. Ours: wall
seconds from the first party's start to the last party's end, raw strings to each party's
result (canonicalisation, hashing, crypto, matching, delivery to both); ``protocol_s`` excludes
canonicalisation (NFKC, trim, case fold, dedupe). Bytes on the wire = payloads both parties
sent. Peak RSS per party process (and its worker pool for ECDH); CPU seconds per party (robust
on a loaded machine, unlike wall time). Anchors: openmined-psi (P-256 ECDH, one process,
reveal-intersection mode) on the same sets in the same run — at 1M it needs ~15 minutes, so the
1M lines compare KKRT with our ECDH (full run) and print SecretFlow's C++ KKRT figure (5.3 s on
this kind of machine, ``shared/BENCHMARKS.md``, not this run: ratio null).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, peak_rss_mb

SECRETFLOW_KKRT_1M_S = 5.3


def make_ids(n: int, side: str, seed: int = 7) -> list[str]:
    import numpy as np

    universe = np.random.default_rng(seed).integers(0, 2**63, size=n + n // 2, dtype=np.int64)
    part = universe[:n] if side == "guest" else universe[n // 2:n + n // 2]
    part = np.random.default_rng(seed + (side == "host")).permutation(part)
    return [f"{v:016x}" for v in part.tolist()]


def party(ctx: Any, *, side: str, n: int, protocol: str, workers: int) -> dict[str, Any]:
    from coalition.compute import ProcessExecutor
    from coalition.protocols.psi import IdSet, run_guest, run_host

    ids = make_ids(n, side)
    ex = ProcessExecutor(workers) if protocol == "ecdh" else None
    if ex is not None:
        ctx.executor = ex
    start, cpu0 = time.time(), time.process_time()
    idset = IdSet.build(ids)
    canon_end, cpu1 = time.time(), time.process_time()
    fn = run_guest if side == "guest" else run_host
    result = fn(ctx, idset, {"protocol": protocol, "delivery": "both"})
    end, cpu2 = time.time(), time.process_time()
    if ex is not None:
        ex.shutdown()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"start": start, "canon_end": canon_end, "end": end, "size": result.size,
            "sent": result.summary.bytes_sent, "rss_mb": round(peak_rss_mb(), 1),
            "workers_rss_mb": round(kids.ru_maxrss / 1024.0, 1) if ex is not None else 0.0,
            "cpu_s": {"canonicalisation": round(cpu1 - cpu0, 2),
                      "protocol": round(cpu2 - cpu1 + kids.ru_utime + kids.ru_stime, 2)},
            "extra": result.summary.extra}


def run_two(n: int, protocol: str, workers: int) -> dict[str, Any]:
    from coalition.core import Party
    from coalition.testing import run_parties

    G, H = Party.guest(), Party.host("h1")
    kw = {"n": n, "protocol": protocol, "workers": workers}
    out = run_parties({G: partial(party, side="guest", **kw), H: partial(party, side="host", **kw)},
                      transport="grpc", timeout=1800)
    g, h = out[G], out[H]
    if g["size"] != n // 2 or h["size"] != n // 2:
        raise SystemExit(f"{protocol}: wrong intersection size {g['size']}, {h['size']}")
    end = max(g["end"], h["end"])
    return {"wall": end - min(g["start"], h["start"]),
            "protocol": end - max(g["canon_end"], h["canon_end"]),
            "bytes": g["sent"] + h["sent"], "guest_to_host": g["sent"], "host_to_guest": h["sent"],
            "rss": {"guest": g["rss_mb"], "host": h["rss_mb"],
                    **({"guest_workers": g["workers_rss_mb"], "host_workers": h["workers_rss_mb"]}
                       if protocol == "ecdh" else {})},
            "cpu": {"guest": g["cpu_s"], "host": h["cpu_s"]}, "extra": g["extra"]}


def median_run(n: int, protocol: str, reps: int, workers: int) -> dict[str, Any]:
    runs = sorted((run_two(n, protocol, workers) for _ in range(reps)), key=lambda r: r["wall"])
    return runs[len(runs) // 2]


def run_openmined(n: int) -> float:
    import private_set_intersection.python as om

    client_ids, server_ids = make_ids(n, "guest"), make_ids(n, "host")
    t0 = time.perf_counter()
    c = om.client.CreateWithNewKey(True)
    s = om.server.CreateWithNewKey(True)
    setup = s.CreateSetupMessage(1e-9, len(client_ids), server_ids, om.DataStructure.RAW)
    response = s.ProcessRequest(c.CreateRequest(client_ids))
    size = len(c.GetIntersection(setup, response))
    if size != n // 2:
        raise SystemExit(f"openmined-psi wrong size {size}")
    return time.perf_counter() - t0


def label(n: int) -> str:
    return f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"


def line(protocol: str, n: int, run: dict[str, Any], *, anchor: str, anchor_value: float | None,
         reps: int, workers: int, **extra: Any) -> None:
    emit(f"psi.{protocol}.2party.{label(n)}", unit="s", ours=round(run["wall"], 2),
         anchor=anchor, anchor_value=None if anchor_value is None else round(anchor_value, 2),
         higher_is_better=False,
         params={"n": n, "n_guest": n, "n_host": n, "overlap": 0.5, "id": "16 hex chars",
                 "transport": "grpc+mTLS loopback", "processes": 2, "delivery": "both",
                 "reps": reps, **({"workers_per_party": workers} if protocol == "ecdh" else {})},
         protocol_s_excl_canonicalisation=round(run["protocol"], 2),
         bytes_on_wire=run["bytes"], guest_to_host_bytes=run["guest_to_host"],
         host_to_guest_bytes=run["host_to_guest"], peak_rss_mb=run["rss"],
         cpu_s_per_party=run["cpu"], **extra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2, help="ECDH process-pool workers per party")
    ap.add_argument("--no-anchor", action="store_true", help="skip openmined-psi (ratio null)")
    ap.add_argument("--only", choices=("ecdh", "kkrt"), default=None,
                    help="run only this engine at 100k (with the anchor); no 1M lines")
    args = ap.parse_args()
    small, big = 100_000, 1_000_000
    reps = args.reps or (1 if args.quick else 3)
    om = None if args.no_anchor else run_openmined(small)
    om_name = ("openmined-psi 2.0 (P-256 ECDH, 1 process, same sets, same run)" if om is not None
               else "openmined-psi: not measured in this run (--no-anchor)")
    for protocol in ("ecdh", "kkrt") if args.only is None else (args.only,):
        run = median_run(small, protocol, reps, args.workers)
        line(protocol, small, run, anchor=om_name, anchor_value=om, reps=reps,
             workers=args.workers, target={"ratio_min": 4.0})
    if args.only is not None:
        return
    kkrt_1m = median_run(big, "kkrt", 1, args.workers)
    ecdh_1m = None if args.quick else median_run(big, "ecdh", 1, args.workers)
    line("kkrt", big, kkrt_1m, reps=1, workers=args.workers,
         anchor=("coalition ECDH-PSI (same run, same transport)" if ecdh_1m is not None
                 else "SecretFlow KKRT (C++), 2 processes, this machine kind; not this run"),
         anchor_value=ecdh_1m["wall"] if ecdh_1m is not None else SECRETFLOW_KKRT_1M_S,
         **({} if ecdh_1m is not None else {"ratio": None}),
         secretflow_kkrt_1m_s=SECRETFLOW_KKRT_1M_S, target={"seconds_max": SECRETFLOW_KKRT_1M_S})
    if ecdh_1m is not None:
        line("ecdh", big, ecdh_1m, reps=1, workers=args.workers,
             anchor="openmined-psi: not run at 1M (~15 min); see the 100k line",
             anchor_value=None, target={"seconds_max": 150})


if __name__ == "__main__":
    main()
