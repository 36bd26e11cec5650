"""Paillier-2048 against phe 1.5.0 and fate-utils, measured in the same run.

Run: ``.venv/bin/python benchmarks/paillier.py [--quick]``. One JSON line per case (format in
../shared/BENCHMARKS.md); ``ratio`` is against the best anchor measured in this run. Ours
runs on one core unless a line says ``workers``; fate-utils is Rust and may use every core.
``paillier.decrypt`` alone is timed in process CPU seconds over interleaved rounds with the
same count for every implementation (all are one CRT powmod pair per value).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, median_time, peak_rss_mb

from coalition.compute import ProcessExecutor, RayExecutor
from coalition.crypto.paillier import generate_keypair

BITS = 2048


def rate(fn: Callable[[], Any], count: int) -> float:
    """Operations per second (median of 3 after one warm-up)."""
    return round(count / median_time(fn), 1)


def interleaved_times(fns: dict[str, Callable[[], Any]],
                      reps: int) -> dict[str, list[tuple[float, float]]]:
    """(process CPU s, wall s) of each function per round, after one warm-up each.

    Rounds interleave the functions (rotating the order), so load that comes and goes on a
    shared machine falls on all of them alike; round ``i`` of every function is comparable.
    """
    names = list(fns)
    for name in names:
        fns[name]()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for rnd in range(reps):
        for name in names[rnd % len(names):] + names[:rnd % len(names)]:
            c0, w0 = time.process_time(), time.perf_counter()
            fns[name]()
            times[name].append((time.process_time() - c0, time.perf_counter() - w0))
    return times


def best(anchors: dict[str, float], higher_is_better: bool) -> tuple[str, float | None]:
    if not anchors:
        return "none measured", None
    pick = (max if higher_is_better else min)(anchors, key=anchors.__getitem__)
    return pick, anchors[pick]


def report(bench: str, unit: str, ours: float, anchors: dict[str, float], notes: dict[str, str],
           higher_is_better: bool, params: dict[str, Any], **extra: Any) -> None:
    name, value = best(anchors, higher_is_better)
    label = name + "".join(f"; {k}: {v}" for k, v in notes.items())
    emit(bench, unit=unit, ours=ours, anchor=label, anchor_value=value,
         higher_is_better=higher_is_better,
         params={**params, "anchors": anchors, "bits": BITS}, **extra)


class Phe:
    name = "phe 1.5.0"

    def __init__(self) -> None:
        import phe

        self.pk, self.sk = phe.generate_paillier_keypair(n_length=BITS)

    def encrypt(self, x: np.ndarray) -> list[Any]:
        return [self.pk.encrypt(float(v)) for v in x]


class FateUtils:
    name = "fate-utils 0.1.0"

    def __init__(self) -> None:
        import fate_utils.paillier as fp

        self.sk, self.pk, self.coder = fp.keygen(BITS)

    def encrypt(self, x: np.ndarray) -> Any:
        return self.pk.encrypt_encoded(self.coder.encode_f64_vec(x), True)


def load_anchors() -> tuple[Phe | None, FateUtils | None, dict[str, str]]:
    notes: dict[str, str] = {}
    phe = fate = None
    try:
        phe = Phe()
    except ImportError:
        notes["phe"] = "not installed (make bench)"
    try:
        fate = FateUtils()
    except ImportError:
        notes["fate-utils"] = "not importable here; FATE figures in BENCHMARKS.md"
    return phe, fate, notes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts, < 60 s")
    quick = parser.parse_args().quick
    rng = np.random.default_rng(2024)
    pk, sk = generate_keypair(BITS)
    phe, fate, notes = load_anchors()
    n_ours = 300 if quick else 2000
    n_phe = 12 if quick else 60
    n_fate = 30 if quick else 200
    x = rng.normal(size=n_ours) * 100

    # -- encrypt -----------------------------------------------------------------------
    sk.encrypt(x[:64])  # builds the key holder's fixed-base tables once, as a real job would
    pk.encrypt(x[:64])
    anchors: dict[str, float] = {}
    if phe:
        anchors[phe.name] = rate(lambda: phe.encrypt(x[:n_phe]), n_phe)
    if fate:
        anchors[fate.name] = rate(lambda: fate.encrypt(x[:n_fate]), n_fate)
    ours = rate(lambda: sk.encrypt(x), n_ours)
    params = {"n": n_ours, "path": "key holder (CRT + fixed-base DJN)", "n_phe": n_phe,
              "n_fate": n_fate}
    report("paillier.encrypt", "ops/s", ours, anchors, notes, True, params)
    ours_pub = rate(lambda: pk.encrypt(x), n_ours)
    report("paillier.encrypt_public", "ops/s", ours_pub, anchors, notes, True,
           {**params, "path": "public key (fixed-base DJN mod n^2)"})
    # offline/online split: randomisers made ahead (precompute), then encrypt consumes them
    offline = rate(lambda: sk.precompute(n_ours), n_ours)
    pk.pool.take(len(pk.pool))
    sk.precompute(4 * n_ours)  # warm-up + 3 timed calls, each takes n_ours
    online = rate(lambda: sk.encrypt(x), n_ours)
    split = {**params, "path": "key holder, randomisers from sk.precompute"}
    report("paillier.encrypt_offline", "ops/s", offline, anchors, notes, True,
           {**split, "phase": "offline only: hs^a by CRT + fixed-base tables, no plaintext"})
    report("paillier.encrypt_online", "ops/s", online, anchors, notes, True,
           {**split, "phase": "online only: (1 + m n) r mod n^2 with a pooled r; the anchors "
                               "have no offline phase, so this ratio is not like for like"})

    # -- decrypt -----------------------------------------------------------------------
    # Every implementation is one CRT pair of exponentiations per ciphertext, so the figures
    # differ by a few per cent at most and a shared machine's load swings more than that:
    # all three decrypt the same number of ciphertexts, in interleaved rounds, timed in
    # process CPU seconds (a threaded anchor is charged for every core it uses).
    n_dec = 40 if quick else 200  # the same count for every implementation
    enc = sk.encrypt(x)
    enc_dec = enc[:n_dec]
    contenders: dict[str, Callable[[], Any]] = {"ours": lambda: sk.decrypt(enc_dec)}
    if phe:
        pc = phe.encrypt(x[:n_phe])
        pc_dec = phe.encrypt(x[:n_dec])
        contenders[phe.name] = lambda: [phe.sk.decrypt(c) for c in pc_dec]
    if fate:
        fc = fate.encrypt(x[:n_fate])
        fc_dec = fate.encrypt(x[:n_dec])
        contenders[fate.name] = lambda: fate.coder.decode_f64_vec(
            fate.sk.decrypt_to_encoded(fc_dec))
    times = interleaved_times(contenders, reps=3 if quick else 7)
    cpu_rates = {k: round(n_dec / statistics.median(c for c, _ in v), 1) for k, v in times.items()}
    wall_rates = {k: round(n_dec / statistics.median(w for _, w in v), 1)
                  for k, v in times.items()}
    ours = cpu_rates.pop("ours")
    # the phe ratio of each round (same load), then the median: steadier than a ratio of medians
    paired = ({"ratio_vs_phe": round(statistics.median(
        t[0] / o[0] for o, t in zip(times["ours"], times[phe.name], strict=True)), 3)}
        if phe else {})
    report("paillier.decrypt", "ops/s", ours, cpu_rates, notes, True,
           {"n": n_dec, "crt": True, "path": "one powmod mod p^2 and one mod q^2 per value",
            "timing": "median process CPU time of interleaved rounds, same n for all",
            "wall_ops_s": wall_rates}, **paired)

    # -- add ---------------------------------------------------------------------------
    enc2 = sk.encrypt(x[::-1].copy())
    tile = 10  # additions are ~10 µs: time enough of them to rise above timer noise
    big1 = enc.concatenate([enc] * tile)
    big2 = enc.concatenate([enc2] * tile)
    anchors = {}
    reps = 20
    if phe:
        pc2 = phe.encrypt(x[n_phe:2 * n_phe])
        anchors[phe.name] = rate(lambda: [a + b for _ in range(reps)
                                          for a, b in zip(pc, pc2, strict=True)], reps * n_phe)
    if fate:
        fc2 = fate.encrypt(x[n_fate:2 * n_fate])
        anchors[fate.name] = rate(lambda: [fc.add(fate.pk, fc2) for _ in range(reps)],
                                  reps * n_fate)
    ours = rate(lambda: big1 + big2, tile * n_ours)
    report("paillier.add", "ops/s", ours, anchors, notes, True, {"n": tile * n_ours})

    # -- ciphertext x 53-bit scalar ------------------------------------------------------
    k = int(rng.integers(2**52, 2**53))
    anchors = {}
    if phe:
        anchors[phe.name] = rate(lambda: [c * k for c in pc], n_phe)
    if fate:
        anchors[fate.name] = rate(lambda: fc.mul_scalar(fate.pk, fate.coder.encode_i64(k)), n_fate)
    ours = rate(lambda: enc * k, n_ours)
    report("paillier.mul_scalar53", "ops/s", ours, anchors, notes, True,
           {"n": n_ours, "scalar_bits": 53, "exact": True})

    # -- host gradient X.T @ [[d]] -------------------------------------------------------
    N, F = (2000 if quick else 10_000), 10
    d = rng.normal(size=N)  # about half negative
    X = rng.normal(size=(N, F))
    enc_d = sk.encrypt(d)
    anchors = {}
    sub_phe, sub_fate = (40 if quick else 200), (100 if quick else 400)
    if phe:
        pd = phe.encrypt(d[:sub_phe])
        Xs = X[:sub_phe]

        def phe_grad() -> list[Any]:
            out = []
            for j in range(F):
                acc = pd[0] * float(Xs[0, j])
                for i in range(1, sub_phe):
                    acc = acc + pd[i] * float(Xs[i, j])
                out.append(acc)
            return out

        anchors[phe.name] = round(median_time(phe_grad) * N / sub_phe, 2)
    if fate:
        fd = fate.encrypt(d[:sub_fate])
        Xt = fate.coder.encode_f64_vec(np.ascontiguousarray(X[:sub_fate].T).ravel())
        anchors[fate.name] = round(median_time(
            lambda: fd.rmatmul(fate.pk, Xt, [sub_fate, 1], [F, sub_fate])) * N / sub_fate, 2)
    ours = round(median_time(lambda: enc_d.xt_dot(X)), 3)
    err = float(np.abs(sk.decrypt(enc_d.xt_dot(X)) - X.T @ d).max())
    gparams = {"N": N, "F": F, "precision_bits": 24, "max_abs_error": err,
               "anchor_method": (f"naive loop timed on the first {sub_phe} (phe) / {sub_fate} "
                                 f"(fate-utils rmatmul) rows, extrapolated linearly to N"),
               **({"quick": "N=2000 instead of 10,000"} if quick else {})}
    report("paillier.grad_xt_dot", "s", ours, anchors, notes, False, gparams,
           peak_rss_mb=round(peak_rss_mb(), 1))
    pool = ProcessExecutor(2)
    try:
        ours2 = round(median_time(lambda: enc_d.xt_dot(X, executor=pool)), 3)
    finally:
        pool.shutdown()
    report("paillier.grad_xt_dot_2workers", "s", ours2, anchors, notes, False,
           {**gparams, "workers": 2})
    grad_on_ray(enc_d, X, ours2, gparams)


def grad_on_ray(enc_d: Any, X: np.ndarray, pool_s: float, gparams: dict[str, Any]) -> None:
    """The same X.T @ [[d]] on 2 Ray workers (a local Ray; its start-up is the warm-up run),
    against the 2-worker process pool measured just before: ratio = pool s / Ray s."""
    anchor = "coalition process pool, 2 workers (same run)"
    try:
        import ray  # noqa: F401 - the ray extra
    except ImportError:
        emit("paillier.grad_xt_dot_ray", unit="s", ours=None, anchor=anchor + "; ray not installed",
             anchor_value=pool_s, higher_is_better=False, ratio=None, params=gparams)
        return
    executor = RayExecutor(2)
    try:
        ours = round(median_time(lambda: enc_d.xt_dot(X, executor=executor)), 3)
    finally:
        executor.shutdown()
    emit("paillier.grad_xt_dot_ray", unit="s", ours=ours, anchor=anchor, anchor_value=pool_s,
         higher_is_better=False, params={**gparams, "workers": 2, "executor": "ray (local)",
                                          "bits": BITS})


if __name__ == "__main__":
    main()
