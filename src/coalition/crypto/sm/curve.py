"""The SM2 elliptic curve (GB/T 32918.5-2017, "SM2 recommended curve parameters") over libcrypto.

A short-Weierstrass curve ``y^2 = x^3 + a x + b`` over the 256-bit prime ``p`` with prime order
``n`` (cofactor 1), so every point on the curve other than the identity generates the whole
group: validating a peer point means checking that it decodes onto the curve and is not the
identity (:meth:`Sm2Curve.decode`), which every method taking a peer point does.

Points travel as 33-byte SEC 1 compressed encodings (``02``/``03`` then ``x``, big-endian);
scalars are Python ints in ``[1, n)`` or their 32-byte big-endian encodings. Arithmetic is
OpenSSL's (:mod:`._libcrypto`); Python only converts. Randomness comes only from ``secrets``.
"""

from __future__ import annotations

import ctypes
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm._libcrypto import (
    NID_SM2,
    POINT_COMPRESSED,
    POINT_UNCOMPRESSED,
    libcrypto,
)

__all__ = ["POINT_BYTES", "SCALAR_BYTES", "SM2", "Sm2Curve"]

POINT_BYTES = 33
SCALAR_BYTES = 32


@dataclass(frozen=True)
class Sm2Curve:
    """One prime-order short-Weierstrass curve: its parameters and libcrypto group handle.

    :data:`SM2` is the recommended curve; :meth:`from_params` builds others (the example curve
    of GB/T 32918 Annex A, used by the standard's signature test vectors).
    """

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    nid: int | None = None
    _group: ctypes.c_void_p = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lib = libcrypto()
        if self.nid is not None:
            group = lib.EC_GROUP_new_by_curve_name(self.nid)
        else:
            group = _explicit_group(self)
        if not group:
            raise CryptoError("libcrypto could not build the SM2 group")
        object.__setattr__(self, "_group", ctypes.c_void_p(group))

    @classmethod
    def from_params(cls, *, p: int, a: int, b: int, gx: int, gy: int, n: int) -> Sm2Curve:
        """A curve from explicit parameters (cofactor 1)."""
        return cls(p=p, a=a, b=b, gx=gx, gy=gy, n=n)

    @property
    def generator(self) -> bytes:
        """The base point ``G``, compressed."""
        return bytes([2 + (self.gy & 1)]) + self.gx.to_bytes(SCALAR_BYTES, "big")

    # -- scalars -------------------------------------------------------------------------------

    def random_scalar(self) -> int:
        """A uniformly random scalar in ``[1, n)``."""
        return 1 + secrets.randbelow(self.n - 1)

    def scalar_from_bytes(self, data: bytes) -> int:
        """A 32-byte big-endian scalar; :class:`InputError` unless it lies in ``[1, n)``."""
        value = int.from_bytes(data, "big")
        if len(data) != SCALAR_BYTES or not 0 < value < self.n:
            raise InputError("SM2 scalar out of range")
        return value

    # -- points --------------------------------------------------------------------------------

    def is_valid_point(self, point: bytes) -> bool:
        """Whether ``point`` is a canonical encoding of a non-identity curve point."""
        try:
            self._free(self._decode(point))
        except CryptoError:
            return False
        return True

    def scalarmult(self, scalar: int, point: bytes) -> bytes:
        """``scalar · point`` (compressed); :class:`CryptoError` if ``point`` is invalid."""
        return self._mul(None, scalar, point)

    def scalarmult_many(self, scalar: int, points: Iterable[bytes]) -> list[bytes]:
        """``scalar · P`` (compressed) for every encoded ``P`` (compressed or uncompressed), one
        scalar applied to a batch: the scalar's bignum, a ``BN_CTX`` and the two points'
        storage are set up once per batch rather than once per point, so each point costs one
        ``EC_POINT_oct2point`` (the on-curve check), one ``EC_POINT_mul`` and one
        ``EC_POINT_point2oct``. :class:`CryptoError` naming only the row index of the first
        invalid point (nothing of the batch is returned then)."""
        lib = libcrypto()
        bn = _bignum(scalar, self.n)
        ctx = lib.BN_CTX_new()
        point, out = lib.EC_POINT_new(self._group), lib.EC_POINT_new(self._group)
        buffer = ctypes.create_string_buffer(POINT_BYTES)
        group = self._group
        oct2point, mul, point2oct = lib.EC_POINT_oct2point, lib.EC_POINT_mul, lib.EC_POINT_point2oct
        at_infinity = lib.EC_POINT_is_at_infinity
        results: list[bytes] = []
        try:
            if not (ctx and point and out):
                raise CryptoError("libcrypto could not allocate a batch")
            for i, data in enumerate(points):
                if (len(data) not in (POINT_BYTES, 2 * SCALAR_BYTES + 1) or data[0] not in (2, 3, 4)
                        or (data[0] == 4) != (len(data) != POINT_BYTES)
                        or not oct2point(group, point, data, len(data), ctx)
                        or at_infinity(group, point)):
                    raise CryptoError("not a point of the SM2 group", index=i)
                if not mul(group, out, None, point, bn, ctx) or at_infinity(group, out):
                    raise CryptoError("SM2 scalar multiplication failed", index=i)
                if point2oct(group, out, POINT_COMPRESSED, buffer, POINT_BYTES,
                             ctx) != POINT_BYTES:
                    raise CryptoError("libcrypto could not encode an SM2 point")
                results.append(buffer.raw)
            return results
        finally:
            lib.BN_clear_free(bn)
            self._free(point, out)
            lib.BN_CTX_free(ctx)

    def scalarmult_base(self, scalar: int) -> bytes:
        """``scalar · G`` (compressed)."""
        return self._mul(scalar, None, None)

    def double_scalarmult(self, base_scalar: int, scalar: int, point: bytes) -> bytes:
        """``base_scalar · G + scalar · point`` in one libcrypto call (SM2 verification)."""
        return self._mul(base_scalar, scalar, point)

    def add(self, first: bytes, second: bytes) -> bytes:
        """``first + second``; :class:`CryptoError` if either is invalid or the sum is the identity."""
        lib = libcrypto()
        p, q = self._decode(first), None
        out = lib.EC_POINT_new(self._group)
        try:
            q = self._decode(second)
            if not lib.EC_POINT_add(self._group, out, p, q, None):
                raise CryptoError("SM2 point addition failed")
            return self._encode(out, POINT_COMPRESSED)
        finally:
            self._free(p, q, out)

    def from_affine(self, x: int, y: int) -> bytes:
        """The compressed encoding of the affine point ``(x, y)``, checked to lie on the curve."""
        raw = b"\x04" + x.to_bytes(SCALAR_BYTES, "big") + y.to_bytes(SCALAR_BYTES, "big")
        point = self._decode(raw, length=2 * SCALAR_BYTES + 1)
        try:
            return self._encode(point, POINT_COMPRESSED)
        finally:
            self._free(point)

    def affine(self, point: bytes) -> tuple[int, int]:
        """The affine coordinates ``(x, y)`` of a valid compressed point."""
        decoded = self._decode(point)
        try:
            raw = self._encode(decoded, POINT_UNCOMPRESSED)
        finally:
            self._free(decoded)
        return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")

    # -- libcrypto plumbing --------------------------------------------------------------------

    def _mul(self, base_scalar: int | None, point_scalar: int | None, point: bytes | None) -> bytes:
        """``base_scalar · G + point_scalar · point`` by one ``EC_POINT_mul``."""
        lib = libcrypto()
        q = self._decode(point) if point is not None else None
        bn_base = _bignum(base_scalar, self.n) if base_scalar is not None else None
        bn_point = _bignum(point_scalar, self.n) if point_scalar is not None else None
        out = lib.EC_POINT_new(self._group)
        try:
            if not lib.EC_POINT_mul(self._group, out, bn_base, q, bn_point, None):
                raise CryptoError("SM2 scalar multiplication failed")
            return self._encode(out, POINT_COMPRESSED)
        finally:
            for bn in (bn_base, bn_point):
                if bn is not None:
                    lib.BN_clear_free(bn)
            self._free(q, out)

    def _decode(self, data: bytes, *, length: int = POINT_BYTES) -> int:
        lib = libcrypto()
        if len(data) != length or data[0] not in (2, 3, 4):
            raise CryptoError("not an SM2 point encoding")
        point = lib.EC_POINT_new(self._group)
        if not point:
            raise CryptoError("libcrypto could not allocate a point")
        # oct2point checks that the point lies on the curve; cofactor 1 makes it a group element.
        if not lib.EC_POINT_oct2point(self._group, point, data, len(data), None) or (
            lib.EC_POINT_is_at_infinity(self._group, point)
        ):
            lib.EC_POINT_free(point)
            raise CryptoError("not a point of the SM2 group")
        return int(point)

    def _encode(self, point: int, form: int) -> bytes:
        lib = libcrypto()
        if lib.EC_POINT_is_at_infinity(self._group, point):
            raise CryptoError("SM2 result is the identity")
        size = POINT_BYTES if form == POINT_COMPRESSED else 2 * SCALAR_BYTES + 1
        buffer = ctypes.create_string_buffer(size)
        if lib.EC_POINT_point2oct(self._group, point, form, buffer, size, None) != size:
            raise CryptoError("libcrypto could not encode an SM2 point")
        return buffer.raw

    @staticmethod
    def _free(*points: int | None) -> None:
        lib = libcrypto()
        for point in points:
            if point:
                lib.EC_POINT_free(point)

    def __del__(self) -> None:
        group = getattr(self, "_group", None)
        if group:
            libcrypto().EC_GROUP_free(group)


def _bignum(value: int, order: int) -> int:
    if not 0 < value < order:
        raise InputError("SM2 scalar out of range")
    raw = value.to_bytes(SCALAR_BYTES, "big")
    bn = libcrypto().BN_bin2bn(raw, SCALAR_BYTES, None)
    if not bn:
        raise CryptoError("libcrypto could not allocate a scalar")
    return int(bn)


def _explicit_group(curve: Sm2Curve) -> int | None:
    lib = libcrypto()
    bns = [_raw_bignum(v) for v in (curve.p, curve.a, curve.b, curve.n)]
    ctx = lib.BN_CTX_new()
    group = lib.EC_GROUP_new_curve_GFp(bns[0], bns[1], bns[2], ctx)
    one = _raw_bignum(1)
    try:
        if not group:
            return None
        generator = lib.EC_POINT_new(group)
        raw = (
            b"\x04"
            + curve.gx.to_bytes(SCALAR_BYTES, "big")
            + curve.gy.to_bytes(SCALAR_BYTES, "big")
        )
        ok = lib.EC_POINT_oct2point(group, generator, raw, len(raw), ctx) and (
            lib.EC_GROUP_set_generator(group, generator, bns[3], one)
        )
        lib.EC_POINT_free(generator)
        if not ok:
            lib.EC_GROUP_free(group)
            return None
        return int(group)
    finally:
        for bn in (*bns, one):
            lib.BN_clear_free(bn)
        lib.BN_CTX_free(ctx)


def _raw_bignum(value: int) -> int:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return int(libcrypto().BN_bin2bn(raw, len(raw), None))


SM2 = Sm2Curve(
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
    nid=NID_SM2,
)
"""The SM2 recommended curve (GB/T 32918.5-2017), OpenSSL's ``NID_sm2``."""
