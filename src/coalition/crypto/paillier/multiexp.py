"""Encrypted ``X.T @ [[d]]``: one multi-exponentiation ``Π_i c_i^(x_ij)`` per column.

Bucket method (Pippenger, "On the evaluation of powers and monomials", SIAM J. Comput. 9(2),
1980; the form used here is the "bucket" variant of Bernstein et al., "Faster batch forgery
identification", INDOCRYPT 2012, §4): split every exponent into ``w``-bit digits; for each
digit position put ``c_i`` into bucket ``digit_i`` (one multiplication per ciphertext), then
``Π_d B_d^d`` by a running product from the top bucket down (two multiplications per bucket),
and join positions Horner-style with ``w`` squarings. Cost per column is about
``ceil(b/w) · (N + 2^(w+1)) + b`` multiplications mod ``n²`` for ``b``-bit exponents, against
``≈ 1.2 b · N`` for one ``powmod`` per element; ``w`` is chosen to minimise it (9 for
N = 10,000 and b ≈ 28).

Negative ``x_ij`` use ``c_i^-1`` with ``|x_ij|``: each ciphertext is inverted at most once,
and only if its row has a negative entry, however many columns use it.

:func:`xt_dot_chunk` picks, by multiplication count, between that, the same on exponents
shifted by ``2^b`` (no inversions; ``(Π c_i)^(2^b)`` divided out once — wins when most rows
have a negative entry and an inversion costs ~6–9 multiplications), and Straus subset tables
shared by all columns (:mod:`.straus`, best for mini-batch shapes: ``N`` and ``F·b`` both in
the hundreds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core.errors import CryptoError
from coalition.crypto.paillier.straus import best_group, straus_cost, straus_xt_dot

__all__ = ["XtDotTask", "bucket_cost", "choose_window", "multiexp", "offset_cost", "xt_dot_chunk"]

_MAX_WINDOW = 16
_INVERT_COST = 8  # one gmpy2.invert mod n² ≈ 8 multiplications (measured at 2048-bit n²)


def choose_window(count: int, bits: int) -> int:
    """Digit width minimising the bucket method's multiplication count."""
    return min(range(1, _MAX_WINDOW + 1),
               key=lambda w: -(-bits // w) * (count + (1 << (w + 1))))


def bucket_cost(K: npt.NDArray[np.int64]) -> int:
    """Multiplications of one bucket multi-exponentiation per column of ``K`` (+ inversions)."""
    A = np.abs(K)
    total = _INVERT_COST * int(np.count_nonzero((K < 0).any(axis=1)))
    for bits, nnz in zip(_bit_lengths(A.max(axis=0)), np.count_nonzero(A, axis=0).tolist(),
                         strict=True):
        if bits:
            w = choose_window(nnz, bits)
            total += -(-bits // w) * (nnz + (1 << (w + 1))) + bits
    return total


def offset_cost(rows: int, cols: int, bits: int) -> int:
    """Multiplications of the bucket method on ``K + 2^bits`` (no inversions, one correction)."""
    w = choose_window(rows, bits + 1)
    return cols * (-(-(bits + 1) // w) * (rows + (1 << (w + 1))) + bits + 1) + rows + bits


def _offset_xt_dot(cs: list[mpz], K: npt.NDArray[np.int64], n2: mpz, bits: int
                   ) -> list[mpz | None]:
    """Bucket method on non-negative ``K + 2^bits``; ``(Π c_i)^(2^bits)`` divided out once."""
    offset = 1 << bits
    Kp = K + np.int64(offset)
    total = mpz(1)
    for c in cs:
        total = total * c % n2
    try:
        correction = gmpy2.powmod(total, -offset, n2)
    except ZeroDivisionError as exc:
        raise CryptoError("ciphertext is not invertible mod n²") from exc
    nonzero = np.any(K != 0, axis=0).tolist()
    out: list[mpz | None] = []
    for j in range(K.shape[1]):
        acc = multiexp(cs, Kp[:, j], n2) if nonzero[j] else None
        out.append(None if acc is None else acc * correction % n2)
    return out


def _bit_lengths(values: npt.NDArray[np.int64]) -> list[int]:
    return [int(v).bit_length() for v in values.tolist()]


def multiexp(bases: list[mpz], exponents: npt.NDArray[Any], modulus: mpz) -> mpz | None:
    """``Π bases[i]^exponents[i] mod modulus`` for non-negative exponents (``None`` if all 0).

    ``exponents`` is an int64 or object (Python int) array aligned with ``bases``.
    """
    if len(bases) == 0:
        return None
    bits = int(exponents.max()).bit_length()
    if bits == 0:
        return None
    w = choose_window(len(bases), bits)
    mask = (1 << w) - 1
    acc: mpz | None = None
    for t in reversed(range(-(-bits // w))):
        if acc is not None:
            acc = gmpy2.powmod(acc, 1 << w, modulus)
        digits = ((exponents >> (t * w)) & mask).tolist()
        buckets: list[mpz | None] = [None] * (mask + 1)
        for b, d in zip(bases, digits, strict=True):
            if d:
                cur = buckets[d]
                buckets[d] = b if cur is None else cur * b % modulus
        run: mpz | None = None
        total: mpz | None = None
        for d in range(max(digits), 0, -1):  # Π_d B_d^d = Π_d (Π_{e>=d} B_e)
            bd = buckets[d]
            if bd is not None:
                run = bd if run is None else run * bd % modulus
            if run is not None:
                total = run if total is None else total * run % modulus
        if total is not None:
            acc = total if acc is None else acc * total % modulus
    return acc


@dataclass(frozen=True)
class XtDotTask:
    """Rows of one chunk: ciphertexts ``c`` (N,) and signed integer exponents (N, F)."""

    nsquare: int
    ciphertexts: list[Any]
    exponents: npt.NDArray[Any]


def xt_dot_chunk(task: XtDotTask) -> list[mpz | None]:
    """``[Π_i c_i^(K[i, j]) mod n²  for j in columns]`` (``None`` where a column is all 0)."""
    n2 = mpz(task.nsquare)
    K = task.exponents
    cs = [mpz(c) for c in task.ciphertexts]
    if K.dtype == np.int64 and K.size:
        rows, cols = K.shape
        bits = int(np.abs(K).max()).bit_length()
        k = best_group(rows, cols, bits)
        costs = {"bucket": bucket_cost(K), "straus": straus_cost(rows, cols, bits, k),
                 "offset": offset_cost(rows, cols, bits)}
        pick = min(costs, key=costs.__getitem__)
        if pick == "straus":
            return straus_xt_dot(cs, K, n2, k)
        if pick == "offset":
            return _offset_xt_dot(cs, K, n2, bits)
    negative = K < 0
    inverses: dict[int, mpz] = {}
    try:
        for i in np.flatnonzero(negative.any(axis=1)).tolist():
            inverses[i] = gmpy2.invert(cs[i], n2)
    except ZeroDivisionError as exc:
        raise CryptoError("ciphertext is not invertible mod n²") from exc
    A = np.abs(K)
    out: list[mpz | None] = []
    for j in range(K.shape[1]):
        col = A[:, j]
        rows = np.flatnonzero(col != 0)
        neg = negative[rows, j].tolist()
        bases = [inverses[i] if ng else cs[i] for i, ng in zip(rows.tolist(), neg, strict=True)]
        out.append(multiexp(bases, col[rows], n2))
    return out
