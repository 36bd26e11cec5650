"""Hash-to-curve for SM2: RFC 9380 with the simplified SWU map, suite ``SM2_XMD:SM3_SSWU_RO_``.

RFC 9380 defines no SM2 suite, and the interconnection specifications we know of (the Chinese
privacy-computing interconnection drafts) define none either, so this module defines one in the
RFC's own terms (§8.10 "Defining a new hash-to-curve suite"):

* ``encoding type``: ``hash_to_curve`` (random oracle, §3);
* ``E``: the SM2 curve of GB/T 32918.5-2017 (``A = -3``, ``B`` and ``p`` from the standard);
* ``expand_message``: ``expand_message_xmd`` with ``H = SM3`` (§5.3.1), ``k = 128``, so
  ``L = ceil((256 + 128) / 8) = 48`` bytes per field element;
* ``f``: simplified SWU (§6.6.2), applicable directly because ``A·B != 0``;
* ``Z = -9``: the output of the RFC's ``find_z_sswu`` (Appendix H.2) for SM2, rechecked in
  ``tests/crypto/test_sm.py``;
* ``h_eff = 1`` (cofactor 1: ``clear_cofactor`` is the identity);
* ``sgn0``: the parity of ``y`` (§4.1, ``m = 1``).

The field arithmetic (inversion, square roots: ``p ≡ 3 mod 4`` so ``sqrt(x) = x^((p+1)/4)``)
and the one affine point addition ``Q0 + Q1`` run on GMP (gmpy2), which is not constant-time:
the map leaks timing of the element being hashed to a local observer, as the edwards25519
suite's libsodium map does not. Nothing here calls libcrypto: the result is on the curve by
construction, and every consumer decodes it through libcrypto's on-curve check before a
scalar touches it. Callers pass their own domain separation tag.
"""

from __future__ import annotations

import gmpy2

from coalition.core.errors import CryptoError
from coalition.crypto.sm.curve import SM2, Sm2Curve
from coalition.crypto.sm.sm3 import expand_message_xmd_sm3

__all__ = ["SSWU_Z", "SUITE_ID", "hash_to_curve", "hash_to_curve_affine", "hash_to_field",
           "map_to_curve"]

SUITE_ID = b"SM2_XMD:SM3_SSWU_RO_"
SSWU_Z = -9
_L = 48


def hash_to_field(message: bytes, dst: bytes, count: int, curve: Sm2Curve = SM2) -> list[int]:
    """``count`` field elements from ``message`` (RFC 9380 §5.2 with ``m = 1``, ``L = 48``)."""
    uniform = expand_message_xmd_sm3(message, dst, count * _L)
    return [int.from_bytes(uniform[i * _L : (i + 1) * _L], "big") % curve.p for i in range(count)]


def map_to_curve(u: int, curve: Sm2Curve = SM2) -> tuple[int, int]:
    """Simplified SWU (RFC 9380 §6.6.2): the affine point that field element ``u`` maps to."""
    p, a, b = curve.p, curve.a, curve.b
    z = SSWU_Z % p
    u2 = u * u % p
    tv1 = (z * z % p * u2 % p * u2 + z * u2) % p
    tv1 = _inv0(tv1, p)  # inv0: 0 stays 0
    x1 = b * _inv0(z * a % p, p) % p if tv1 == 0 else -b * _inv0(a, p) % p * (1 + tv1) % p
    gx1 = (x1 * x1 % p * x1 + a * x1 + b) % p
    # p ≡ 3 (mod 4): gx1 is a square iff its candidate root squares back to it, one powmod
    # where is_square-then-sqrt took two (the same point either way).
    y = _sqrt(gx1, p)
    x = x1
    if y * y % p != gx1:
        x = z * u2 % p * x1 % p
        y = _sqrt((x * x % p * x + a * x + b) % p, p)
    if (u & 1) != (y & 1):
        y = (p - y) % p
    return x, y


def hash_to_curve_affine(message: bytes, dst: bytes, curve: Sm2Curve = SM2) -> tuple[int, int]:
    """``hash_to_curve`` of RFC 9380 §3 for suite ``SM2_XMD:SM3_SSWU_RO_``: the affine
    ``(x, y)`` of ``map(u0) + map(u1)`` (:class:`CryptoError` in the negligible case that the
    sum is the identity)."""
    u0, u1 = hash_to_field(message, dst, 2, curve)
    return _affine_add(map_to_curve(u0, curve), map_to_curve(u1, curve), curve)


def hash_to_curve(message: bytes, dst: bytes, curve: Sm2Curve = SM2) -> bytes:
    """``hash_to_curve`` of RFC 9380 §3 for suite ``SM2_XMD:SM3_SSWU_RO_`` (compressed point)."""
    x, y = hash_to_curve_affine(message, dst, curve)
    return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")


def _affine_add(q0: tuple[int, int], q1: tuple[int, int], curve: Sm2Curve) -> tuple[int, int]:
    """``q0 + q1`` on the short-Weierstrass curve (both on it, neither the identity)."""
    p = curve.p
    (x0, y0), (x1, y1) = q0, q1
    if x0 == x1:
        if (y0 + y1) % p == 0:
            raise CryptoError("hash-to-curve sum is the identity")
        slope = (3 * x0 * x0 + curve.a) % p * _inv0(2 * y0 % p, p) % p  # doubling
    else:
        slope = (y1 - y0) % p * _inv0((x1 - x0) % p, p) % p
    x = (slope * slope - x0 - x1) % p
    return x, (slope * (x0 - x) - y0) % p


def _inv0(value: int, p: int) -> int:
    """``value^-1 mod p``, and 0 for 0 (RFC 9380 ``inv0``)."""
    return 0 if value % p == 0 else int(gmpy2.invert(value, p))


def _sqrt(value: int, p: int) -> int:
    # p ≡ 3 (mod 4) for SM2 (RFC 9380 Appendix I.1).
    return int(gmpy2.powmod(value, (p + 1) // 4, p))
