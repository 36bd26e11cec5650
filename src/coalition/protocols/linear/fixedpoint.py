"""Fixed-point numbers in the ring Z_2^64 (numpy ``uint64``, arithmetic wraps around).

A real ``x`` is encoded as ``round(x * 2^f) mod 2^64`` (two's complement), ``f = frac_bits``
(default 14: resolution 6.1e-5, range ±2^49). A product of two encodings carries ``2f``
fractional bits and is brought back by :func:`truncate`.

Truncation is SecureML's local probabilistic truncation (Mohassel & Zhang, "SecureML", IEEE S&P
2017, Theorem 1): with two additive shares ``x = x0 + x1 mod 2^64``, party 0 takes
``x0 >> d`` and party 1 takes ``-((-x1) >> d)`` (logical shifts). If ``|x| < 2^lx`` and the
shares are uniformly random, the result equals ``floor(x / 2^d)`` or that plus one (an error of
one unit in the last place, 2^-f) except with probability at most ``2^(lx + 1 - 64)``, when it is
off by about 2^(64-d) (a catastrophic wrap). Callers keep ``lx`` small: with ``f = 14`` the
largest pre-truncation values in training (mini-batch gradient sums, |X^T d| < 2^12 real) stay
below 2^40, so each truncation fails with probability below 2^-23; see ``docs/linear.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coalition.core.errors import EncodingOverflowError

__all__ = ["Ring", "decode", "encode", "mul_public", "truncate"]

Ring = NDArray[np.uint64]

#: Significant bits kept for public constants in :func:`mul_public` (relative error 2^-16).
_CONST_BITS = 16


def encode(x: ArrayLike, frac_bits: int) -> Ring:
    """Encode reals as ring elements with ``frac_bits`` fractional bits."""
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise EncodingOverflowError("cannot encode NaN or infinity")
    scaled = np.round(arr * float(1 << frac_bits))
    if arr.size and np.max(np.abs(scaled)) >= 2.0**62:
        raise EncodingOverflowError("value beyond the fixed-point range", frac_bits=frac_bits)
    return scaled.astype(np.int64).view(np.uint64)


def decode(u: Ring, frac_bits: int) -> NDArray[np.float64]:
    """Decode ring elements (two's complement) back to reals."""
    out: NDArray[np.float64] = np.asarray(u, dtype=np.uint64).view(np.int64) / float(
        1 << frac_bits)
    return out


def truncate(share: Ring, bits: int, party: int) -> Ring:
    """SecureML local truncation of this party's share by ``bits`` (``party`` is 0 or 1)."""
    s = np.asarray(share, dtype=np.uint64)
    shift = np.uint64(bits)
    if party == 0:
        return np.asarray(s >> shift, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return np.asarray(np.uint64(0) - ((np.uint64(0) - s) >> shift), dtype=np.uint64)


def mul_public(share: Ring, const: Any, party: int) -> Ring:
    """Share of ``x * c`` for a public real ``c`` (scalar or array).

    ``c`` is encoded with 16 significant bits (relative error below 2^-16), the product is
    truncated back by SecureML truncation; ``x`` keeps its scale.
    """
    c = np.asarray(const, dtype=np.float64)
    peak = float(np.max(np.abs(c))) if c.size else 0.0
    if peak == 0.0:
        return np.zeros(np.broadcast(np.asarray(share), c).shape, dtype=np.uint64)
    bits = max(0, _CONST_BITS - 1 - math.floor(math.log2(peak)))
    ci = np.round(c * float(1 << bits)).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        prod = np.asarray(share, dtype=np.uint64) * ci
    return truncate(prod, bits, party)
