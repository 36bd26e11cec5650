"""Per-chunk Okamoto–Uchiyama kernels: module-level functions a process executor can run.

Encryption is ``E(m) = g^m · h^r mod n`` (Okamoto & Uchiyama, "A new public-key cryptosystem
as secure as factoring", EUROCRYPT 1998, §3). The paper draws ``r`` from ``Z_n``; only
``r mod ord(h)`` matters, and ``ord(h)`` divides ``lcm(p-1, q-1) < 2^(2|p|)``, so ``r`` here is
``2|p| + 128`` random bits from :mod:`secrets` (1494 at a 2048-bit ``n``, against 2048):
uniform modulo ``ord(h)`` up to a statistical distance below ``2^-128``, the same distribution
as the paper's at 27% fewer multiplications. Every encryption (and every :func:`mask_chunk`)
is thus a uniformly random encryption of its plaintext, even to the key holder. Both ``g^m`` and ``h^r`` come from the
fixed-base tables of :mod:`coalition.crypto.paillier.fixedbase` (one multiplication per
exponent byte), built once per key per process and kept in a small LRU cache.

Short randomisers (``EncryptTask.short``): the key holder's *own* encryptions, which only
parties without the key ever see, may draw ``r`` from ``SHORT_RANDOM_BITS = 256`` bits
(``2λ`` for ``λ = 128``) instead: semantic security then rests on the short-exponent
assumption for ``<h>`` (van Oorschot & Wiener, EUROCRYPT 1996: the best known attack on a
``2λ``-bit exponent, Pollard's kangaroo, costs ``2^λ``; a party without ``p, q`` does not even
know the group order) — the same kind of assumption as Damgård–Jurik–Nielsen's short ``a`` for
Paillier, and more conservative than HEU's 110-bit ``r`` at 2048 bits (Coron, Naccache &
Paillier, "Accelerating Okamoto–Uchiyama's public-key cryptosystem", Electronics Letters
1999). Anything a non-key-holder re-randomises for the key holder (:func:`mask_chunk`) keeps
the full uniform ``r`` above, since the key holder can take discrete logarithms where the
factorisation helps.

Decryption uses only the ``p`` component (the paper's §3, "decryption"):
``m = L(c^(p-1) mod p²) · L(g^(p-1) mod p²)^-1 mod p`` with ``L(x) = (x - 1) / p``. Work items
may carry ``p`` because they stay inside one party (a local process pool); nothing here is
ever put on the wire.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from coalition.crypto.paillier.fixedbase import FixedBaseTable

__all__ = [
    "DecryptTask",
    "EncryptTask",
    "MaskTask",
    "decrypt_chunk",
    "encrypt_chunk",
    "mask_chunk",
    "message_bytes",
    "random_bytes",
]

# Tables are ≈ 6 MB (g) and ≈ 17 MB (h) at 2048 bits; parties sharing one process each hold
# keys, hence room for a few.
_CACHE_SIZE = 16  # a key holder alone uses up to 9 (g, g^-1 and h, mod p², q and n)
_cache: OrderedDict[tuple[Any, ...], FixedBaseTable] = OrderedDict()
_BLOCK = 512  # exponents per row-major block, as in fixedbase.pow_many
_lock = threading.Lock()


def message_bytes(n: int) -> int:
    """Bytes of a raw plaintext exponent: ``plaintext_bits(n)`` rounded up."""
    return (plaintext_bits(n) + 7) // 8


# Statistical distance of r mod ord(h) from uniform: below 2^-STATISTICAL_BITS.
STATISTICAL_BITS = 128
# Bits of r in the key holder's own encryptions with ``short=True`` (module docstring).
SHORT_RANDOM_BITS = 256


def random_bytes(n: int) -> int:
    """Bytes of the random exponent ``r``: ``2|p| + STATISTICAL_BITS`` bits rounded up."""
    return (2 * prime_bits(n) + STATISTICAL_BITS + 7) // 8


def prime_bits(n: int) -> int:
    """``|p| = |q|`` for a modulus ``n = p²q`` of ``bits(n)`` bits: ``ceil(bits(n) / 3)``."""
    return -(-int(n).bit_length() // 3)


def plaintext_bits(n: int) -> int:
    """Raw plaintexts lie in ``[0, 2^plaintext_bits)``, below ``p`` (``p >= 2^(|p|-1)``)."""
    return prime_bits(n) - 1


def _table(base: int, n: int, exp_bytes: int) -> FixedBaseTable:
    key = (base, n, exp_bytes)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    table = FixedBaseTable(base, n, exp_bytes)  # outside the lock: a duplicate build is harmless
    with _lock:
        _cache[key] = table
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return table


@dataclass(frozen=True)
class EncryptTask:
    """Encrypt raw plaintexts ``ms`` (in ``[0, 2^plaintext_bits)``) under ``(n, g, h)``.

    ``ms`` may be negative (``|m| < 2^plaintext_bits``): ``g^-|m|`` comes from a table of
    ``g^-1``, so a negative value costs what a positive one does.
    """

    n: int
    g: int
    h: int
    ms: list[int]
    masked: bool
    p: int = 0  # the key holder's primes (0: public path); never leave the party's processes
    q: int = 0
    short: bool = False  # SHORT_RANDOM_BITS-bit r: only for the key holder's own encryptions


@dataclass(frozen=True)
class MaskTask:
    """Multiply each ciphertext by a fresh ``h^r`` (``1`` gives a fresh encryption of 0)."""

    n: int
    h: int
    cs: list[Any]


@dataclass(frozen=True)
class DecryptTask:
    """Decrypt ciphertexts with the secret prime ``p`` and ``L(g^(p-1) mod p²)^-1 mod p``."""

    p: int
    g_inv: int
    cs: list[Any]


def _pow_plaintexts(table: FixedBaseTable, ms: list[int]) -> list[mpz]:
    """``base^m`` for each ``m``, walking only the table rows the largest ``m`` needs.

    Packed gradient rows and fixed-point values are far shorter than ``plaintext_bits``; a
    row of zero bytes would still cost one multiplication each in ``pow_many``.
    """
    nb = (max((int(m).bit_length() for m in ms), default=0) + 7) // 8 or 1
    blob = b"".join(int(m).to_bytes(nb, "little") for m in ms)
    mod, rows = table.modulus, table.rows
    out: list[mpz] = []
    for start in range(0, len(ms), _BLOCK):
        block = blob[start * nb:min(len(ms), start + _BLOCK) * nb]
        accs = [rows[0][d] for d in block[0::nb]]
        for i in range(1, nb):
            row = rows[i]
            accs = [a * row[d] % mod for a, d in zip(accs, block[i::nb], strict=True)]
        out.extend(accs)
    return out


def _masks(n: int, h: int, count: int, short: bool = False) -> list[mpz]:
    if count == 0:
        return []
    nb = SHORT_RANDOM_BITS // 8 if short else random_bytes(n)
    return _table(h, n, nb).pow_many(secrets.token_bytes(nb * count), count)


def mask_chunk(task: MaskTask) -> list[mpz]:
    """``c · h^r mod n`` for each ``c`` with a fresh ``r`` each."""
    n = mpz(task.n)
    return [mpz(c) * r % n for c, r in zip(task.cs, _masks(task.n, task.h, len(task.cs)),
                                             strict=True)]


def encrypt_chunk(task: EncryptTask) -> list[mpz]:
    """``g^m · h^r mod n`` per plaintext (``g^m`` alone when ``masked`` is false)."""
    n, count = task.n, len(task.ms)
    if count == 0:
        return []
    if task.p:
        return _encrypt_crt(task)
    gm = _signed_powers(task.g, n, message_bytes(n), task.ms)
    if not task.masked:
        return gm
    nn = mpz(n)
    return [a * r % nn for a, r in zip(gm, _masks(n, task.h, count, task.short), strict=True)]


def _encrypt_crt(task: EncryptTask) -> list[mpz]:
    """The key holder's path: the same ciphertexts, computed mod ``p²`` and mod ``q``.

    ``h`` has order dividing ``p - 1`` mod ``p²`` and ``q - 1`` mod ``q``, so ``h^r`` needs
    only ``r mod (p-1)`` and ``r mod (q-1)`` (``|p|``-bit exponents instead of ``2|p|+128``),
    on moduli of 2/3 and 1/3 the width; ``r`` is drawn exactly as on the public path, so the
    ciphertext distribution is identical. Recombined by Garner's formula.
    """
    n, count = task.n, len(task.ms)
    p, q = mpz(task.p), mpz(task.q)
    p2 = p * p
    gp = _signed_powers(task.g, int(p2), message_bytes(n), task.ms)
    gq = _signed_powers(task.g, int(q), message_bytes(n), task.ms)
    if task.masked and task.short:  # r < 2^256 < p - 1, q - 1: no reduction needed
        sb = SHORT_RANDOM_BITS // 8
        rs = secrets.token_bytes(sb * count)
        hp = _table(task.h % int(p2), int(p2), sb).pow_many(rs, count)
        hq = _table(task.h % int(q), int(q), sb).pow_many(rs, count)
        gp = [a * b % p2 for a, b in zip(gp, hp, strict=True)]
        gq = [a * b % q for a, b in zip(gq, hq, strict=True)]
    elif task.masked:
        rb = random_bytes(n)
        rs = secrets.token_bytes(rb * count)
        pb = (int(p).bit_length() + 7) // 8
        pm1, qm1 = int(p) - 1, int(q) - 1
        ints = [int.from_bytes(rs[i:i + rb], "little") for i in range(0, rb * count, rb)]
        rp = b"".join((r % pm1).to_bytes(pb, "little") for r in ints)
        rq = b"".join((r % qm1).to_bytes(pb, "little") for r in ints)
        hp = _table(task.h % int(p2), int(p2), pb).pow_many(rp, count)
        hq = _table(task.h % int(q), int(q), pb).pow_many(rq, count)
        gp = [a * b % p2 for a, b in zip(gp, hp, strict=True)]
        gq = [a * b % q for a, b in zip(gq, hq, strict=True)]
    q_inv = gmpy2.invert(q, p2)
    return [cq + q * ((cp - cq) * q_inv % p2) for cp, cq in zip(gp, gq, strict=True)]


def _signed_powers(g: int, mod: int, exp_bytes: int, ms: list[int]) -> list[mpz]:
    """``g^m mod mod`` for signed ``m``: negatives from the table of ``g^-1``."""
    neg = [i for i, m in enumerate(ms) if m < 0]
    if not neg:
        return _pow_plaintexts(_table(g % mod, mod, exp_bytes), ms)
    out = _pow_plaintexts(_table(g % mod, mod, exp_bytes), [max(m, 0) for m in ms])
    g_inv = int(gmpy2.invert(g % mod, mod))
    for i, v in zip(neg, _pow_plaintexts(_table(g_inv, mod, exp_bytes), [-ms[i] for i in neg]),
                    strict=True):
        out[i] = v
    return out


def decrypt_chunk(task: DecryptTask) -> list[mpz]:
    """Plaintexts in ``[0, p)``: ``L(c^(p-1) mod p²) · g_inv mod p``."""
    p = mpz(task.p)
    p2 = p * p
    g_inv = mpz(task.g_inv)
    powered = gmpy2.powmod_base_list([mpz(c) % p2 for c in task.cs], p - 1, p2)
    return [(x - 1) // p * g_inv % p for x in powered]
