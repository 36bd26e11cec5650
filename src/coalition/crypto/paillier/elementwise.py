"""Elementwise ciphertext arithmetic mod n² with numpy broadcasting (object arrays of mpz)."""

from __future__ import annotations

from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core.errors import CryptoError, InputError

__all__ = ["broadcast_pair", "inverses", "objects", "plain_ciphertexts", "powers", "products"]

ObjArray = npt.NDArray[np.object_]


def objects(items: list[Any], shape: tuple[int, ...]) -> ObjArray:
    """An object array of ``items`` reshaped to ``shape`` (no numpy coercion of the items)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def broadcast_pair(a: ObjArray, b: ObjArray) -> tuple[ObjArray, ObjArray]:
    """Numpy broadcasting, with :class:`InputError` for incompatible shapes."""
    try:
        x, y = np.broadcast_arrays(a, b)
    except ValueError as exc:
        raise InputError("operand shapes do not broadcast", left=a.shape, right=b.shape) from exc
    return x, y


def products(a: ObjArray, b: ObjArray, nsquare: mpz) -> ObjArray:
    """``a * b mod n²`` elementwise (ciphertext addition)."""
    x, y = broadcast_pair(a, b)
    out = [u * v % nsquare for u, v in zip(x.ravel().tolist(), y.ravel().tolist(), strict=True)]
    return objects(out, x.shape)


def inverses(c: ObjArray, nsquare: mpz) -> ObjArray:
    """``c^-1 mod n²`` elementwise (ciphertext negation)."""
    try:
        return objects([gmpy2.invert(x, nsquare) for x in c.ravel().tolist()], c.shape)
    except ZeroDivisionError as exc:
        raise CryptoError("ciphertext is not invertible mod n²") from exc


def powers(c: ObjArray, ks: ObjArray, nsquare: mpz) -> tuple[list[mpz | None], tuple[int, ...]]:
    """``c^k mod n²`` elementwise for signed ints ``ks`` (``None`` where ``k == 0``)."""
    x, k = broadcast_pair(c, ks)
    exps = [int(e) for e in k.ravel().tolist()]
    try:
        if ks.size == 1:  # one exponent for all: a C loop that releases the GIL
            out = gmpy2.powmod_base_list(x.ravel().tolist(), exps[0] if exps else 0, nsquare)
        else:
            out = [gmpy2.powmod(b, e, nsquare) for b, e in zip(x.ravel().tolist(), exps, strict=True)]
    except (ZeroDivisionError, ValueError) as exc:
        raise CryptoError("ciphertext is not invertible mod n²") from exc
    return [None if e == 0 else r for r, e in zip(out, exps, strict=True)], x.shape


def plain_ciphertexts(ints: ObjArray, n: mpz, nsquare: mpz) -> ObjArray:
    """The unmasked ``g^m = 1 + m n mod n²`` for signed plaintexts ``ints``."""
    return objects([(1 + (mpz(m) % n) * n) % nsquare for m in ints.ravel().tolist()], ints.shape)
