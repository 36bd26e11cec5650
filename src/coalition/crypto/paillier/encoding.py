"""Fixed-point encoding of real numbers as Paillier plaintexts.

A real ``x`` is carried as the integer ``m = round(x * 2**s)`` where ``s`` is the array's
``scale_bits``; negative ``m`` is stored as ``n + m`` (so ``Z_n`` holds the signed range).
Rounding costs at most ``2**-(s+1)`` absolute error per value: with the default
``DEFAULT_PRECISION = 40`` that is 4.5e-13, well below float64 resolution for |x| >= 1e-3.

Encoding accepts ``|m| < n // 3``; decoding reads ``[0, n//3]`` as positive and
``[n - n//3, n)`` as negative and refuses the middle third with
:class:`~coalition.core.errors.EncodingOverflowError` — a sum or product that wandered there
has overflowed, and returning a wrong number silently would be worse than failing.

Plaintext *multipliers* (``enc * x``, ``X.T @ enc``) use ``DEFAULT_MUL_PRECISION = 24`` bits:
error at most ``2**-25 ≈ 3.0e-8`` per multiplier, so ``|X.T @ d - result| <= 2**-25 * Σ|d|``
(plus the encoding error of ``d`` itself). 24 bits keeps the exponents short, and exponent
length is what the multi-exponentiation pays for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.errors import EncodingOverflowError, InputError

__all__ = [
    "DEFAULT_MUL_PRECISION",
    "DEFAULT_PRECISION",
    "check_range",
    "decode_signed",
    "is_integer_valued",
    "scaled_exponents",
    "scaled_integers",
]

DEFAULT_PRECISION = 40
DEFAULT_MUL_PRECISION = 24
MAX_SCALE_BITS = 4096

ObjArray = npt.NDArray[np.object_]


def is_integer_valued(values: Any) -> bool:
    """True for Python ints/bools and integer/bool numpy arrays (exact, unscaled operands)."""
    if isinstance(values, bool | int | np.integer | np.bool_):
        return True
    arr = values if isinstance(values, np.ndarray) else None
    if arr is None:
        return False
    if arr.dtype.kind in "biu":
        return True
    return arr.dtype.kind == "O" and all(isinstance(v, int) for v in arr.flat)


def scaled_integers(values: Any, precision: int) -> ObjArray:
    """``round(values * 2**precision)`` as an object array of Python ints (same shape).

    Integers (Python ints, integer dtypes, ints in object arrays) scale exactly; floats round
    to nearest. NaN and infinities raise :class:`EncodingOverflowError`; anything that is not
    a number raises :class:`InputError`.
    """
    if not 0 <= precision <= MAX_SCALE_BITS:
        raise InputError("precision out of range", precision=precision, maximum=MAX_SCALE_BITS)
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "biu":
        flat = [int(v) << precision for v in arr.ravel().tolist()]
    elif kind == "f":
        flat = _round_floats(arr.astype(np.float64, copy=False), precision)
    elif kind == "O":
        flat = [_scale_one(v, precision) for v in arr.ravel().tolist()]
    else:
        raise InputError("values must be numbers", dtype=str(arr.dtype))
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(arr.shape)


def scaled_exponents(values: Any, precision: int) -> npt.NDArray[Any]:
    """Like :func:`scaled_integers`, but int64 when every value fits (fast digit extraction)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and 0 <= precision <= MAX_SCALE_BITS:
        if not np.isfinite(arr).all():
            raise EncodingOverflowError("cannot encode NaN or infinity")
        with np.errstate(over="ignore"):
            scaled = np.rint(arr.astype(np.float64) * np.float64(2.0) ** precision)
        if scaled.size == 0 or np.abs(scaled).max() < 2.0**62:
            return scaled.astype(np.int64)
    ints = scaled_integers(arr, precision)
    if ints.size and max(abs(int(v)) for v in ints.ravel().tolist()) < 2**62:
        return ints.astype(np.int64)
    return ints


def _round_floats(arr: npt.NDArray[np.float64], precision: int) -> list[int]:
    if not np.isfinite(arr).all():
        raise EncodingOverflowError("cannot encode NaN or infinity")
    with np.errstate(over="ignore"):
        scaled = np.rint(arr * np.float64(2.0) ** precision)
    if not np.isfinite(scaled).all():
        raise EncodingOverflowError("value too large to encode", precision=precision)
    if scaled.size and np.abs(scaled).max() < 2.0**62:
        return scaled.astype(np.int64).ravel().tolist()
    return [int(v) for v in scaled.ravel().tolist()]


def _scale_one(v: Any, precision: int) -> int:
    if isinstance(v, bool | int):
        return int(v) << precision
    if isinstance(v, float | np.floating):
        return _round_floats(np.asarray([v], dtype=np.float64), precision)[0]
    if isinstance(v, np.integer):
        return int(v) << precision
    raise InputError("values must be numbers", type=type(v).__qualname__)


def check_range(ints: ObjArray, n: int) -> None:
    """Refuse plaintexts with ``|m| >= n // 3`` (they would decode ambiguously)."""
    limit = n // 3
    if ints.size and max(abs(int(v)) for v in ints.ravel().tolist()) >= limit:
        raise EncodingOverflowError("value too large for the key's plaintext range",
                                    limit_bits=limit.bit_length())


def decode_signed(raw: list[Any], n: int, scale_bits: int) -> npt.NDArray[np.float64]:
    """Raw plaintexts in ``[0, n)`` to floats ``signed(m) / 2**scale_bits``."""
    third = n // 3
    upper = n - third
    div = 1 << scale_bits
    out = np.empty(len(raw), dtype=np.float64)
    try:
        for i, m in enumerate(raw):
            v = int(m)
            if v > third:
                if v < upper:
                    raise EncodingOverflowError(
                        "decrypted value lies in the overflow range (sum or product too large)")
                v -= n
            out[i] = v / div
    except OverflowError as exc:
        raise EncodingOverflowError("decrypted value does not fit a float64") from exc
    return out
