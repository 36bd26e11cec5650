"""KKRT16 PSI benchmark: two processes over the gRPC transport (mTLS on loopback), next to our
ECDH-PSI and openmined-psi measured in the same run.

    .venv/bin/python benchmarks/psi_kkrt.py --quick   # 50k x 50k; openmined-psi at 20k
    .venv/bin/python benchmarks/psi_kkrt.py           # + 1M x 1M KKRT and ECDH

Sets: n random 16-hex-digit string IDs each, 50% overlap, delivery ``both``. Ours: wall seconds
from the first party's start to the last party's end, from raw strings to each party's
result; ``protocol_s`` excludes the PSI package's canonicalisation (NFKC, strip, case fold,
dedupe: a Python loop over IDs) and counts everything after it: 128-bit item hashing, base
OTs, cuckoo hashing, extension, hashing, matching, delivery. Bytes on the wire = encoded
payloads both parties sent. Peak RSS per party process (includes the input ID lists); CPU
seconds per party process (robust to a loaded machine, unlike wall time).
Anchors: our ECDH engine (same run, same transport), openmined-psi (P-256 ECDH, one process,
same run, at 100k, 20k with --quick: it needs ~15 minutes at 1M), and SecretFlow's C++ KKRT figure of 5.3 s at
1M x 1M on this kind of machine (``shared/BENCHMARKS.md``; not this run, so no ratio).
"""

from __future__ import annotations

import argparse
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


def kkrt_params() -> Any:
    """``protocol="kkrt"`` params; until the PSI spec accepts it, built without validation."""
    from coalition.core.errors import ConfigError
    from coalition.protocols.psi.spec import PsiParams, PsiProtocol

    try:
        return PsiParams.parse({"protocol": "kkrt", "delivery": "both"})
    except ConfigError:
        base = PsiParams.parse({"delivery": "both"}).model_dump()
        return PsiParams.model_construct(**{**base, "protocol": PsiProtocol.KKRT})


def kkrt_party(ctx: Any, *, side: str, n: int) -> dict[str, Any]:
    from coalition.protocols.psi.inputs import IdSet
    from coalition.protocols.psi.kkrt import run_kkrt_guest, run_kkrt_host
    from coalition.protocols.psi.session import open_session

    ids = make_ids(n, side)
    params = kkrt_params()
    start, cpu0 = time.time(), time.process_time()
    idset = IdSet.build(ids)
    canon_end, cpu1 = time.time(), time.process_time()
    engine = run_kkrt_guest if side == "guest" else run_kkrt_host
    result = engine(open_session(ctx, idset, params, None))
    end, cpu2 = time.time(), time.process_time()
    return {"start": start, "canon_end": canon_end, "end": end, "size": result.size,
            "sent": result.summary.bytes_sent, "rss_mb": round(peak_rss_mb(), 1),
            "cpu_s": {"canonicalisation": round(cpu1 - cpu0, 2),
                      "protocol": round(cpu2 - cpu1, 2)},
            "extra": result.summary.extra}


def ecdh_party(ctx: Any, *, side: str, n: int, workers: int) -> dict[str, Any]:
    from coalition.compute import ProcessExecutor
    from coalition.protocols.psi import run_guest, run_host

    ids = make_ids(n, side)
    ex = ProcessExecutor(workers)
    ctx.executor = ex
    start = time.time()
    fn = run_guest if side == "guest" else run_host
    result = fn(ctx, ids, {"protocol": "ecdh", "delivery": "both"})
    end = time.time()
    ex.shutdown()
    return {"start": start, "canon_end": start, "end": end, "size": result.size,
            "sent": result.summary.bytes_sent, "rss_mb": round(peak_rss_mb(), 1), "extra": {},
            "cpu_s": {}}


def run_two(fn: Any, n: int, **kw: Any) -> dict[str, Any]:
    from coalition.core import Party
    from coalition.testing import run_parties

    G, H = Party.guest(), Party.host("h1")
    out = run_parties({G: partial(fn, side="guest", n=n, **kw),
                       H: partial(fn, side="host", n=n, **kw)}, transport="grpc", timeout=1800)
    g, h = out[G], out[H]
    if g["size"] != n // 2 or h["size"] != n // 2:
        raise SystemExit(f"wrong intersection size: {g['size']}, {h['size']}")
    begin = min(g["start"], h["start"])
    return {"wall": max(g["end"], h["end"]) - begin,
            "protocol": max(g["end"], h["end"]) - max(g["canon_end"], h["canon_end"]),
            "bytes": g["sent"] + h["sent"], "guest_to_host": g["sent"], "host_to_guest": h["sent"],
            "rss": {"guest": g["rss_mb"], "host": h["rss_mb"]}, "extra": g["extra"],
            "cpu": {"guest": g["cpu_s"], "host": h["cpu_s"]}}


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


def median_run(fn: Any, n: int, reps: int, **kw: Any) -> dict[str, Any]:
    runs = sorted((run_two(fn, n, **kw) for _ in range(reps)), key=lambda r: r["wall"])
    return runs[len(runs) // 2]


def bench(n: int, reps: int, workers: int, openmined_n: int | None, kkrt_only: bool) -> None:
    kkrt = median_run(kkrt_party, n, reps)
    ecdh = {"wall": None, "bytes": None, "rss": None} if kkrt_only else \
        median_run(ecdh_party, n, 1, workers=workers)
    common = {"n": n, "n_guest": n, "n_host": n, "overlap": 0.5, "id": "16 hex chars",
              "transport": "grpc+mTLS loopback", "processes": 2, "delivery": "both",
              "reps": reps}
    info = {"protocol_s_excl_canonicalisation": round(kkrt["protocol"], 2),
            "bytes_on_wire": kkrt["bytes"], "guest_to_host_bytes": kkrt["guest_to_host"],
            "host_to_guest_bytes": kkrt["host_to_guest"], "peak_rss_mb": kkrt["rss"],
            "cpu_s_per_party": kkrt["cpu"],
            "kkrt": kkrt["extra"]}
    emit(f"psi.kkrt.2party.{label(n)}", unit="s", ours=round(kkrt["wall"], 2),
         anchor=f"coalition ECDH-PSI ({workers} workers/party, same run, same transport)",
         anchor_value=None if ecdh["wall"] is None else round(ecdh["wall"], 2),
         higher_is_better=False,
         params=common, **info,
         ecdh={"bytes_on_wire": ecdh["bytes"], "peak_rss_mb": ecdh["rss"]})
    if n == 1_000_000:
        emit(f"psi.kkrt.vs_secretflow.{label(n)}", unit="s", ours=round(kkrt["wall"], 2),
             anchor="SecretFlow KKRT (C++), 2 processes, this machine kind; not this run",
             anchor_value=SECRETFLOW_KKRT_1M_S, higher_is_better=False, ratio=None,
             params=common, target={"seconds_max": SECRETFLOW_KKRT_1M_S}, **info)
    if openmined_n is not None and not kkrt_only:
        small = kkrt if openmined_n == n else median_run(kkrt_party, openmined_n, reps)
        om = run_openmined(openmined_n)
        emit(f"psi.kkrt.vs_openmined.{label(openmined_n)}", unit="s",
             ours=round(small["wall"], 2),
             anchor="openmined-psi (P-256 ECDH, 1 process, same sets, same run)",
             anchor_value=round(om, 2), higher_is_better=False,
             params={**common, "n": openmined_n, "n_guest": openmined_n,
                     "n_host": openmined_n, "reps": reps},
             bytes_on_wire=small["bytes"], peak_rss_mb=small["rss"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="50k x 50k; openmined at 20k")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2, help="ECDH process-pool workers")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--openmined-n", type=int, default=None)
    ap.add_argument("--kkrt-only", action="store_true", help="skip the anchors (development)")
    args = ap.parse_args()
    sizes = args.sizes or ([50_000] if args.quick else [100_000, 1_000_000])
    om_n = args.openmined_n or (20_000 if args.quick else 100_000)
    reps = args.reps or (1 if args.quick else 3)
    for n in sizes:
        bench(n, reps, args.workers, openmined_n=om_n if n == sizes[0] else None,
              kkrt_only=args.kkrt_only)


if __name__ == "__main__":
    main()
