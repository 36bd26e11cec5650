"""Per-chunk Paillier kernels: module-level functions a process executor can run.

Work items carry key material as plain integers. Each process (the caller or a pool worker)
keeps the fixed-base tables it built in a small LRU cache keyed by that material, so a worker
pays for a table once per key, not once per chunk. Everything here stays inside one party
(a local process pool), which is why private primes may appear in a work item; nothing in this
module is ever put on the wire.

Encryption follows Paillier (EUROCRYPT 1999) with ``g = n + 1`` and the randomiser of
Damgård, Jurik and Nielsen ("A generalization of Paillier's public-key system with
applications to electronic voting", Int. J. Inf. Secur. 9(6), 2010 — the journal version of
Damgård–Jurik, PKC 2001):
``c = (1 + m n) · hs^a mod n²`` with ``hs = h^n mod n²`` for a random unit ``h`` and a fresh
random exponent ``a`` of ``ceil(bits/2)`` bits from :mod:`secrets`. ``hs^a`` comes from a
fixed-base table; the key holder evaluates it modulo ``p²`` and ``q²`` and recombines by CRT.
Decryption uses the CRT form of Paillier's paper (§7): ``m_p = L_p(c^(p-1) mod p²) · h_p mod p``.

Short randomisers (``EncryptTask.short``): the key holder's *own* encryptions, which only
parties without the factorisation ever see (a SecureBoost guest's gradients), may draw ``a``
from ``SHORT_RANDOM_BITS = 256`` bits (``2λ`` for ``λ = 128``) instead of ``bits(n)/2``. DJN's
``a`` is already short against the order of ``hs`` (≈ ``bits(n)`` bits); at ``2λ`` bits the
best known attack on the exponent, Pollard's kangaroo, still costs ``2^λ`` (van Oorschot &
Wiener, "On Diffie–Hellman key agreement with short exponents", EUROCRYPT 1996), and
short and full-length exponents are indistinguishable under the short-exponent discrete-log
assumption (Koshiba & Kurosawa, "Short exponent Diffie–Hellman problems", PKC 2004) — the
assumption :mod:`coalition.crypto.ou` makes for the same use. ``hs`` itself never leaves the
party. The key holder evaluates ``hs^a`` modulo ``p²`` and ``q²`` from 32-row tables (2048-bit
moduli at a 2048-bit key): 64 half-width multiplications instead of 128 full-width ones.
Public-key encryption, :func:`mask_chunk` and everything a non-key-holder re-randomises keep the
full-length ``a`` (or a uniform ``r^n``, :func:`uniform_mask_chunk`).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from coalition.crypto.paillier.fixedbase import FixedBaseTable, powmod_bytes

__all__ = [
    "SHORT_RANDOM_BITS",
    "DecryptTask",
    "EncryptTask",
    "MaskTask",
    "UniformMaskTask",
    "decrypt_chunk",
    "encrypt_chunk",
    "exponent_bytes",
    "mask_chunk",
    "uniform_mask_chunk",
]

# A table costs ≈ 32k multiplications to build: it is built once a key has asked for this many
# exponentiations in total (in one batch or across many small ones).
SMALL_BATCH = 24
# Tables are ~20 MB each at 2048 bits; CRT constants are tiny. Parties sharing one process
# (standalone mode) each hold keys, hence room for several.
_CACHE_SIZE = {"crt": 32, "pub": 6, "prv": 6}
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_demand: dict[tuple[Any, ...], int] = {}  # exponentiations requested per key, this process
_lock = threading.Lock()


# Bits of ``a`` in the key holder's own encryptions with ``short=True`` (module docstring).
SHORT_RANDOM_BITS = 256


def exponent_bytes(n: int) -> int:
    """Bytes of the DJN random exponent ``a``: ``ceil(bits(n) / 2)`` bits, rounded up."""
    return (int(n).bit_length() // 2 + 7) // 8


@dataclass(frozen=True)
class _Crt:
    n: mpz
    n2: mpz
    p: mpz
    q: mpz
    p2: mpz
    q2: mpz
    q2_inv: mpz  # (q²)^-1 mod p², recombines encryptions
    q_inv: mpz  # q^-1 mod p, recombines decryptions
    hp: mpz
    hq: mpz


def _cached(key: tuple[Any, ...], build: Any) -> Any:
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    value = build()  # outside the lock: a duplicate build in a race is harmless
    with _lock:
        _cache[key] = value
        same_kind = [k for k in _cache if k[0] == key[0]]
        for old in same_kind[: max(0, len(same_kind) - _CACHE_SIZE[key[0]])]:
            del _cache[old]
    return value


def _crt(p: int, q: int) -> _Crt:
    def build() -> _Crt:
        pp, qq = mpz(p), mpz(q)
        n = pp * qq
        p2, q2 = pp * pp, qq * qq
        g = n + 1
        hp = gmpy2.invert((gmpy2.powmod(g, pp - 1, p2) - 1) // pp, pp)
        hq = gmpy2.invert((gmpy2.powmod(g, qq - 1, q2) - 1) // qq, qq)
        return _Crt(n, n * n, pp, qq, p2, q2, gmpy2.invert(q2, p2), gmpy2.invert(qq, pp), hp, hq)

    return _cached(("crt", int(p), int(q)), build)  # type: ignore[no-any-return]


def _public_table(n: int, hs: int, build_ok: bool) -> FixedBaseTable | None:
    key = ("pub", int(n), int(hs))
    if not build_ok and key not in _cache:  # a racy read only decides table vs powmod
        return None
    return _cached(key, lambda: FixedBaseTable(hs, mpz(n) * n, exponent_bytes(n)))  # type: ignore[no-any-return]


def _private_tables(crt: _Crt, hs: int, build_ok: bool,
                    nb: int) -> tuple[FixedBaseTable, FixedBaseTable] | None:
    key = ("prv", int(crt.p), int(crt.q), int(hs), nb)
    if not build_ok and key not in _cache:
        return None
    return _cached(key, lambda: (FixedBaseTable(hs, crt.p2, nb), FixedBaseTable(hs, crt.q2, nb)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class EncryptTask:
    """Encrypt raw plaintexts in ``[0, n)``; ``p``/``q`` set selects the key-holder path."""

    n: int
    hs: int
    plaintexts: list[int]
    masked: bool = True
    p: int = 0
    q: int = 0
    short: bool = False  # SHORT_RANDOM_BITS-bit a: the key holder's own encryptions only


@dataclass(frozen=True)
class MaskTask:
    """Multiply each ciphertext by a fresh ``hs^a`` (re-randomise; ``1`` gives a fresh [[0]])."""

    n: int
    hs: int
    ciphertexts: list[Any]


@dataclass(frozen=True)
class UniformMaskTask:
    """Multiply each ciphertext by ``r^n`` for a fresh uniform ``r`` in ``Z*_n``."""

    n: int
    ciphertexts: list[Any]


@dataclass(frozen=True)
class DecryptTask:
    """Decrypt ciphertexts to raw plaintexts in ``[0, n)`` with the primes ``p``, ``q``."""

    p: int
    q: int
    ciphertexts: list[Any]


def encrypt_chunk(task: EncryptTask) -> list[mpz]:
    """Ciphertexts of ``task.plaintexts``, in order."""
    n = mpz(task.n)
    n2 = n * n
    if not task.masked:
        return [(1 + mpz(m) * n) % n2 for m in task.plaintexts]
    if task.p:
        return _encrypt_private(task)
    masks = _public_masks(task.n, task.hs, len(task.plaintexts))
    return [(1 + mpz(m) * n) * r % n2 for m, r in zip(task.plaintexts, masks, strict=True)]


def _encrypt_private(task: EncryptTask) -> list[mpz]:
    crt = _crt(task.p, task.q)
    count = len(task.plaintexts)
    nb = SHORT_RANDOM_BITS // 8 if task.short else exponent_bytes(crt.n)
    rnd = secrets.token_bytes(nb * count)
    n, p2, q2, q2_inv = crt.n, crt.p2, crt.q2, crt.q2_inv
    tables = _private_tables(crt, task.hs, _wants_table(("prv", int(crt.p), int(task.hs), nb),
                                                        count), nb)
    if tables is None:
        rp = [powmod_bytes(task.hs, rnd[i * nb:(i + 1) * nb], p2) for i in range(count)]
        rq = [powmod_bytes(task.hs, rnd[i * nb:(i + 1) * nb], q2) for i in range(count)]
    else:
        rp, rq = tables[0].pow_many(rnd, count), tables[1].pow_many(rnd, count)
    out = []
    for m, a, b in zip(task.plaintexts, rp, rq, strict=True):
        x = 1 + mpz(m) * n
        cp = x * a % p2
        cq = x * b % q2
        out.append(cq + q2 * ((cp - cq) * q2_inv % p2))
    return out


def _public_masks(n: int, hs: int, count: int) -> list[mpz]:
    nb = exponent_bytes(n)
    rnd = secrets.token_bytes(nb * count)
    table = _public_table(n, hs, _wants_table(("pub", int(n), int(hs)), count))
    if table is None:
        n2 = mpz(n) * n
        return [powmod_bytes(hs, rnd[i * nb:(i + 1) * nb], n2) for i in range(count)]
    return table.pow_many(rnd, count)


def _wants_table(key: tuple[Any, ...], count: int) -> bool:
    """Build a missing table once this key has asked for ``SMALL_BATCH`` exponentiations in
    total: many small batches (re-randomising a 20-entry gradient every round) pay for it too."""
    with _lock:
        seen = _demand.get(key, 0) + count
        _demand[key] = seen
        if len(_demand) > 64:  # a bounded record of recent keys
            del _demand[next(iter(_demand))]
    return seen >= SMALL_BATCH


def mask_chunk(task: MaskTask) -> list[mpz]:
    """``c · hs^a mod n²`` for each ciphertext, each with fresh ``a``."""
    n2 = mpz(task.n) * task.n
    masks = _public_masks(task.n, task.hs, len(task.ciphertexts))
    return [mpz(c) * r % n2 for c, r in zip(task.ciphertexts, masks, strict=True)]


def uniform_mask_chunk(task: UniformMaskTask) -> list[mpz]:
    """``c · r^n mod n²`` with ``r`` uniform in ``Z*_n`` (Paillier's own randomiser).

    Every valid ciphertext is ``g^m s^n`` for one ``s`` in ``Z*_n``, so the product is a
    uniformly random encryption of ``m`` whatever ``s`` was: nothing about how ``c`` was
    computed survives, not even for the key holder. DJN's ``hs^a`` is only computationally
    hiding, and only from parties without the factorisation.
    """
    n = mpz(task.n)
    n2 = n * n
    rs: list[mpz] = []
    while len(rs) < len(task.ciphertexts):
        r = mpz(secrets.randbelow(task.n - 1) + 1)
        if gmpy2.gcd(r, n) == 1:  # fails only if r reveals a factor of n
            rs.append(r)
    masks = gmpy2.powmod_base_list(rs, n, n2)  # one C loop, GIL released
    return [mpz(c) * r % n2 for c, r in zip(task.ciphertexts, masks, strict=True)]


def decrypt_chunk(task: DecryptTask) -> list[mpz]:
    """Raw plaintexts in ``[0, n)`` of ``task.ciphertexts``, by CRT: one exponentiation modulo
    ``p²`` and one modulo ``q²`` per ciphertext (exponents ``p - 1``, ``q - 1``), which is the
    whole cost; everything else is a few divisions.

    Ciphertexts go to GMP unreduced: its Montgomery conversion divides by ``p²`` anyway, so a
    separate ``c mod p²`` first would be a second division of the same 4096-bit number.
    ``c^(p-1) - 1`` is an exact multiple of ``p``, hence ``divexact`` for ``L_p``.
    """
    crt = _crt(task.p, task.q)
    p, q, p2, q2 = crt.p, crt.q, crt.p2, crt.q2
    cs = [c if isinstance(c, mpz) else mpz(c) for c in task.ciphertexts]
    xp = gmpy2.powmod_base_list(cs, p - 1, p2)  # C loops with the GIL released
    xq = gmpy2.powmod_base_list(cs, q - 1, q2)
    hp, hq, q_inv = crt.hp, crt.hq, crt.q_inv
    divexact = gmpy2.divexact
    out = []
    for a, b in zip(xp, xq, strict=True):
        mp = divexact(a - 1, p) * hp % p
        mq = divexact(b - 1, q) * hq % q
        out.append(mq + q * ((mp - mq) * q_inv % p))
    return out
