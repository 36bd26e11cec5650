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
uses GMP's ``powmod`` (gmpy2), which is not constant-time: the map leaks timing of the element
being hashed to a local observer, as the edwards25519 suite's libsodium map does not. Point
addition is libcrypto's. Callers pass their own domain separation tag.
"""

from __future__ import annotations

import gmpy2

from coalition.crypto.sm.curve import SM2, Sm2Curve
from coalition.crypto.sm.sm3 import expand_message_xmd_sm3

__all__ = ["SSWU_Z", "SUITE_ID", "hash_to_curve", "hash_to_field", "map_to_curve"]

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
    tv1 = pow(tv1, p - 2, p)  # inv0: 0 stays 0
    x1 = b * pow(z * a % p, p - 2, p) % p if tv1 == 0 else -b * pow(a, p - 2, p) % p * (1 + tv1) % p
    gx1 = (pow(x1, 3, p) + a * x1 + b) % p
    if _is_square(gx1, p):
        x, y = x1, _sqrt(gx1, p)
    else:
        x = z * u2 % p * x1 % p
        y = _sqrt((x * x % p * x + a * x + b) % p, p)
    if (u & 1) != (y & 1):
        y = (p - y) % p
    return x, y


def hash_to_curve(message: bytes, dst: bytes, curve: Sm2Curve = SM2) -> bytes:
    """``hash_to_curve`` of RFC 9380 §3 for suite ``SM2_XMD:SM3_SSWU_RO_`` (compressed point)."""
    u0, u1 = hash_to_field(message, dst, 2, curve)
    q0 = curve.from_affine(*map_to_curve(u0, curve))
    q1 = curve.from_affine(*map_to_curve(u1, curve))
    return curve.add(q0, q1)


def _pow(base: int, exponent: int, modulus: int) -> int:
    return int(gmpy2.powmod(base, exponent, modulus))


def _is_square(value: int, p: int) -> bool:
    return value == 0 or _pow(value, (p - 1) // 2, p) == 1


def _sqrt(value: int, p: int) -> int:
    # p ≡ 3 (mod 4) for SM2 (RFC 9380 Appendix I.1).
    return _pow(value, (p + 1) // 4, p)
