"""Okamoto–Uchiyama-2048 against Paillier-2048, per operation, measured in the same run.

Run: ``.venv/bin/python benchmarks/ou.py [--quick]``. One JSON line per case (format in
../shared/BENCHMARKS.md): microseconds per operation, one core, lower is better; the anchor is
this package's own Paillier at the same ``n`` on the same path (the key holder's CRT
encryption for ``encrypt_per_op``, its public-key encryption for ``encrypt_public``), so
``ratio`` is the speed-up OU buys a protocol that switches scheme.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, median_time

from coalition.crypto import ou, paillier

BITS = 2048


def per_op_us(fn: Callable[[], Any], count: int) -> float:
    """Microseconds per operation (median of 3 after one warm-up)."""
    return round(median_time(fn) / count * 1e6, 2)


def report(bench: str, ours: float, anchor: float, params: dict[str, Any]) -> None:
    emit(bench, unit="us/op", ours=ours, anchor=f"coalition Paillier-{BITS} (same run)",
         anchor_value=anchor, higher_is_better=False, params={"bits": BITS, **params})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts, < 60 s")
    quick = parser.parse_args().quick
    count = 300 if quick else 2000
    x = np.random.default_rng(2024).normal(size=count) * 100
    opk, osk = ou.generate_keypair(BITS)
    ppk, psk = paillier.generate_keypair(BITS)
    # Fixed-base tables are built once per key, as in a real job; not timed.
    opk.encrypt(x[:64])
    osk.encrypt(x[:64])
    psk.encrypt(x[:64])
    ppk.encrypt(x[:64])

    ou_enc = per_op_us(lambda: osk.encrypt(x), count)
    ou_enc_pub = per_op_us(lambda: opk.encrypt(x), count)
    pai_enc = per_op_us(lambda: psk.encrypt(x), count)
    pai_enc_pub = per_op_us(lambda: ppk.encrypt(x), count)
    sizes = {"ciphertext_bytes": (opk.bits + 7) // 8,
             "paillier_ciphertext_bytes": (2 * ppk.bits + 7) // 8}
    report("ou.encrypt_per_op", ou_enc, pai_enc,
           {"n": count, "path": "key holder: fixed-base g^m, h^r mod p^2 and mod q, CRT",
            "paillier_path": "key holder (CRT + fixed-base DJN mod n^2)", **sizes})
    report("ou.encrypt_public_per_op", ou_enc_pub, pai_enc_pub,
           {"n": count, "path": "public key: fixed-base g^m and h^r mod n, r of 2|p|+128 bits",
            "paillier_path": "public key (fixed-base DJN mod n^2)", **sizes})

    # SecureBoost's guest encrypts one packed (g, h) per row: ~150-bit raw plaintexts
    rows = np.array([(1 << 149) + 12345 * i for i in range(count)], dtype=object)
    report("ou.encrypt_packed_row_per_op", per_op_us(lambda: osk.encrypt_int(rows), count),
           per_op_us(lambda: psk.encrypt_int(rows), count),
           {"n": count, "plaintext_bits": 150, "path": "key holder, CRT; only the g-table "
            "rows the plaintexts need", "paillier_path": "key holder (CRT + fixed-base DJN)"})

    oc, pc = opk.encrypt(x), psk.encrypt(x)
    n_dec = count // 2
    ou_dec = per_op_us(lambda: osk.decrypt(oc[:n_dec]), n_dec)
    pai_dec = per_op_us(lambda: psk.decrypt(pc[:n_dec]), n_dec)
    report("ou.decrypt_per_op", ou_dec, pai_dec,
           {"n": n_dec, "path": "one powmod mod p^2 (p-1 exponent)",
            "paillier_path": "CRT pair mod p^2, q^2"})

    tile = 10  # additions are microseconds: time enough of them to rise above timer noise
    o1, o2 = ou.concatenate([oc] * tile), ou.concatenate([opk.encrypt(x[::-1].copy())] * tile)
    p1, p2 = paillier.concatenate([pc] * tile), paillier.concatenate([psk.encrypt(x[::-1].copy())] * tile)
    ou_add = per_op_us(lambda: o1 + o2, tile * count)
    pai_add = per_op_us(lambda: p1 + p2, tile * count)
    report("ou.add_per_op", ou_add, pai_add, {"n": tile * count, "path": "product mod n"})

    k = 2**52 + 12345
    ou_mul = per_op_us(lambda: oc * k, count)
    pai_mul = per_op_us(lambda: pc * k, count)
    report("ou.mul_scalar53_per_op", ou_mul, pai_mul, {"n": count, "scalar_bits": 53})


if __name__ == "__main__":
    main()
