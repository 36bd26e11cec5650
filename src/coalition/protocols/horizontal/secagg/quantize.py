"""Fixed-point encoding of real vectors into Z_{2^k} (two's complement), for masked sums.

``encode(x) = round(x · 2^f) mod 2^k``; the sum of encodings decodes to the sum of the rounded
values as long as the true sum stays within ``±2^(k−1)`` — callers bound each input by
``2^(k−1) / n`` for ``n`` summands (:func:`encode` checks it). Error per coordinate: ``2^−(f+1)``
per summand.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.core import EncodingOverflowError

__all__ = ["decode", "encode", "reduce"]


def reduce(values: NDArray[np.uint64], modulus_bits: int) -> NDArray[np.uint64]:
    """``values mod 2^k`` (uint64 arithmetic already wraps modulo 2^64)."""
    if modulus_bits < 64:
        values &= np.uint64((1 << modulus_bits) - 1)
    return values


def encode(x: NDArray[np.float64], frac_bits: int, modulus_bits: int, *, scale: int = 1,
           max_summands: int = 1) -> NDArray[np.uint64]:
    """``round(x·2^f)·scale`` as residues mod 2^k; refuses values that could overflow a sum of
    ``max_summands`` such vectors."""
    fixed = np.rint(np.asarray(x, dtype=np.float64) * float(2**frac_bits))
    bound = float(2 ** (modulus_bits - 1)) / max(1, max_summands)
    if fixed.size and (not np.isfinite(fixed).all() or np.abs(fixed).max() * scale >= bound):
        raise EncodingOverflowError("value too large for the secure-aggregation modulus",
                                    modulus_bits=modulus_bits, frac_bits=frac_bits)
    ints = fixed.astype(np.int64) * np.int64(scale)
    return reduce(ints.view(np.uint64).copy(), modulus_bits)


def decode(residues: NDArray[np.uint64], frac_bits: int, modulus_bits: int) -> NDArray[np.float64]:
    """Signed fixed-point values of ``residues`` (a sum of encodings) as floats."""
    r = reduce(residues.copy(), modulus_bits)
    if modulus_bits < 64:
        half = np.uint64(1 << (modulus_bits - 1))
        signed = r.astype(np.int64) - np.where(r >= half, np.int64(1 << modulus_bits), np.int64(0))
    else:
        signed = r.view(np.int64)
    out: NDArray[np.float64] = signed.astype(np.float64) / float(2**frac_bits)
    return out
