"""A commutative cipher for ECDH-PSI over the prime-order subgroup of Curve25519.

``E_a(x) = [a]H(x)`` and ``E_a(E_b(x)) = E_b(E_a(x))`` (Meadows 1986; Huberman, Franklin,
Hogg 1999). Privacy of the PSI rests on DDH in a group of prime order, with ``H`` modelled as a
random oracle into that group (e.g. De Cristofaro and Tsudik, FC 2010; Ion et al. 2020).

**The group.** ``G`` = the subgroup of order ``L = 2^252 + 2774…8493`` of Curve25519, shared by
edwards25519 and its Montgomery form (RFC 7748 §4.1 birational map). On the wire an element is
its 32-byte little-endian Montgomery u-coordinate (``u`` names ``±P``; negation commutes with
scalar multiplication, so comparing ``u`` compares points).

**Hash** (:func:`hash_ids`): :func:`coalition.crypto.group.hash_to_group` — RFC 9380
``expand_message_xmd``/SHA-512 to 64 bytes, libsodium's Elligator 2 map on each half (cofactor
cleared), sum of the two points (the random-oracle shape of RFC 9380 §3; Brier et al. 2010) —
then ``u = (1 + y) / (1 - y)``. Every ``H(x)`` is in ``G``, not the identity.

**Why not SHA-256 as ``u`` (the previous suite, before 2026-12).** A random ``u`` lies on the
curve or on its quadratic twist depending on the Legendre symbol of ``u^3 + Au^2 + u``, and
scalar multiplication never changes that. Whoever received ``X25519(a, H(x))`` learned one bit
of ``H(x)`` for each of the other side's IDs — enough to tell candidate sets apart — and DDH
does not hold in ``curve ∪ twist``. ``tests/security/test_ecdh_twist_leak.py`` is that attack.

**Scalar multiplication.** X25519 (RFC 7748, OpenSSL via ``cryptography``). The clamped scalar
``k`` is a multiple of 8 in ``[2^254, 2^255)``; the multiples of ``L`` there are ``4L … 7L``,
none divisible by 8, so ``L ∤ k`` and ``[k]`` is a bijection on ``G`` for every key.
It is ≈ 2.8× faster here than libsodium's ``crypto_scalarmult_ed25519_noclamp``, which
re-checks subgroup membership on every call.

**Validation.** Every value from a peer goes through :func:`validate_values` before use:
canonical (``u < p``), ``u ≠ -1``, and the Edwards point with ``y = (u - 1)/(u + 1)`` passes
libsodium's ``crypto_core_ed25519_is_valid_point`` (on the curve — which excludes every twist
``u`` — in the prime-order subgroup, not of small order, so not the identity). A failure
raises :class:`CryptoError` naming only the row index (never the value); nothing computed from
the batch is returned, so nothing derived from it can be sent. Every key is a multiple of the
cofactor and Curve25519 is twist-secure (Bernstein 2006), so such values could not reveal the
key even unchecked; the check keeps the protocol inside the group its proof assumes.
Our own hashed values are in ``G`` by construction and are not re-checked.

Batch API: values are ``(n, 32)`` ``uint8`` arrays. The ``*_chunk`` functions are module-level
for ``executor.map``. Keys come from ``secrets``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from nacl import bindings as sodium

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.group import PointArray, as_points, hash_to_group_chunk

__all__ = [
    "DEFAULT_DST",
    "SUITE",
    "VALUE_BYTES",
    "CommutativeKey",
    "edwards_to_u",
    "hash_encrypt_chunk",
    "hash_ids",
    "hash_ids_chunk",
    "peer_encrypt_chunk",
    "validate_chunk",
    "validate_values",
    "x25519_chunk",
]

VALUE_BYTES = 32
SUITE = "curve25519-prime-order/xmd-sha512-ell2-ro/x25519/v2"
"""Names hash, group and encoding; parties compare it in the hello (old peers are refused)."""
DEFAULT_DST = b"coalition/psi/ecdh/v2/edwards25519_XMD:SHA-512_ELL2_RO_"

_P = 2**255 - 19
_SMALL_CHUNK = 4096  # below this, a process round trip costs more than the work


def _batch_inverse(xs: list[int]) -> list[int]:
    """``x^-1 mod p`` for every (non-zero) ``x``: one inversion, 3 multiplications each
    (Montgomery's trick)."""
    prefix, acc = [], 1
    for x in xs:
        prefix.append(acc)
        acc = acc * x % _P
    inv = pow(acc, -1, _P)
    out = [0] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        out[i] = prefix[i] * inv % _P
        inv = inv * xs[i] % _P
    return out


def _ints(arr: PointArray) -> list[int]:
    data = np.ascontiguousarray(arr).tobytes()
    return [int.from_bytes(data[i:i + VALUE_BYTES], "little")
            for i in range(0, len(data), VALUE_BYTES)]


def _pack(values: list[int]) -> PointArray:
    if not values:
        return np.zeros((0, VALUE_BYTES), dtype=np.uint8)
    data = b"".join(v.to_bytes(VALUE_BYTES, "little") for v in values)
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, VALUE_BYTES).copy()


def edwards_to_u(points: PointArray) -> PointArray:
    """Montgomery ``u = (1 + y)/(1 - y)`` of edwards25519 points other than the identity
    (RFC 7748 §4.1). Trusted input only (our own hashes): no validation."""
    ys = [v & ((1 << 255) - 1) for v in _ints(points)]  # drop the sign of x: u names ±P
    inv = _batch_inverse([(1 - y) % _P for y in ys])
    return _pack([(1 + y) * i % _P for y, i in zip(ys, inv, strict=True)])


def validate_chunk(values: PointArray) -> None:
    """Raise :class:`CryptoError` unless every row is the u-coordinate of an element of the
    prime-order subgroup other than the identity (see module docstring)."""
    us = _ints(values)
    for i, u in enumerate(us):
        if u >= _P or u == _P - 1:  # non-canonical, or no Edwards image (u + 1 = 0)
            raise CryptoError("received an invalid group element", index=i)
    inv = _batch_inverse([u + 1 for u in us])
    check = sodium.crypto_core_ed25519_is_valid_point
    for i, (u, v) in enumerate(zip(us, inv, strict=True)):
        y = (u - 1) * v % _P
        if not check(y.to_bytes(VALUE_BYTES, "little")):
            raise CryptoError("received an invalid group element", index=i)


def _check_shape(values: PointArray | Sequence[bytes]) -> PointArray:
    arr = as_points(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 2 or arr.shape[1] != VALUE_BYTES or arr.dtype != np.uint8:
        raise InputError("values must be an (n, 32) uint8 array", shape=list(arr.shape))
    return arr


def _slices(n: int, executor: Executor | None) -> list[slice] | None:
    if executor is None or executor.workers == 1 or n < _SMALL_CHUNK:
        return None
    return chunk_slices(n, executor.workers * 4, min_size=2048)


def validate_values(values: PointArray | Sequence[bytes],
                    executor: Executor | None = None) -> PointArray:
    """:func:`validate_chunk` over a batch (spread over ``executor``); returns the array."""
    arr = _check_shape(values)
    slices = _slices(arr.shape[0], executor)
    if slices is None or executor is None:
        validate_chunk(arr)
    else:
        executor.map(validate_chunk, [arr[sl] for sl in slices])
    return arr


def hash_ids_chunk(args: tuple[Sequence[bytes], bytes]) -> PointArray:
    """``u(H(x))`` for each ID of a chunk: ``args = (ids, dst)``. For ``executor.map``."""
    ids, dst = args
    if not ids:
        return np.zeros((0, VALUE_BYTES), dtype=np.uint8)
    return edwards_to_u(hash_to_group_chunk((ids, dst)))


def hash_ids(ids: Sequence[bytes], dst: bytes = DEFAULT_DST) -> PointArray:
    """Hash IDs into the prime-order group, as u-coordinates (see module docstring)."""
    return hash_ids_chunk((ids, dst))


def x25519_chunk(args: tuple[bytes, PointArray]) -> PointArray:
    """``X25519(k, u)`` for every row: ``args = (private_key_bytes, values)``. No subgroup
    check: callers validate peer values first (:func:`peer_encrypt_chunk`)."""
    key_bytes, values = args
    key = X25519PrivateKey.from_private_bytes(key_bytes)
    load = X25519PublicKey.from_public_bytes
    data = np.ascontiguousarray(values).tobytes()
    try:
        out = b"".join([key.exchange(load(data[i:i + VALUE_BYTES]))
                        for i in range(0, len(data), VALUE_BYTES)])
    except ValueError as exc:  # OpenSSL refuses an all-zero shared secret (low-order input)
        raise CryptoError("X25519 refused a low-order value") from exc
    if not out:
        return np.zeros((0, VALUE_BYTES), dtype=np.uint8)
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, VALUE_BYTES).copy()


def peer_encrypt_chunk(args: tuple[bytes, PointArray]) -> PointArray:
    """Validate a peer's values, then ``X25519(k, u)``: ``args = (key, values)``."""
    validate_chunk(args[1])
    return x25519_chunk(args)


def hash_encrypt_chunk(args: tuple[bytes, Sequence[bytes], bytes]) -> PointArray:
    """``X25519(k, u(H(x)))`` for each ID of a chunk in one pass: ``args = (key, ids, dst)``."""
    key_bytes, ids, dst = args
    return x25519_chunk((key_bytes, hash_ids_chunk((ids, dst))))


class CommutativeKey:
    """One party's secret X25519 scalar for ECDH-PSI. Never leaves its owner.

    :meth:`hash_encrypt` applies the key to our own hashed IDs (stage one); :meth:`encrypt`
    applies it to a peer's values and validates them first (any invalid row:
    :class:`CryptoError`, nothing returned). The order in which keys are applied does not
    change the result.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise CryptoError("X25519 key must be 32 bytes", length=len(key))
        self._key = bytes(key)

    @classmethod
    def generate(cls) -> CommutativeKey:
        """A fresh random key (``secrets``)."""
        return cls(secrets.token_bytes(32))

    def __repr__(self) -> str:
        return "CommutativeKey(<secret>)"

    def encrypt(self, values: PointArray | Sequence[bytes],
                executor: Executor | None = None) -> PointArray:
        """Validate every row as a group element, then ``X25519(key, u)``; spread over
        ``executor`` when given."""
        arr = _check_shape(values)
        slices = _slices(arr.shape[0], executor)
        if slices is None or executor is None:
            return peer_encrypt_chunk((self._key, arr))
        return np.concatenate(executor.map(peer_encrypt_chunk,
                                           [(self._key, arr[sl]) for sl in slices]))

    def hash_encrypt(self, ids: Sequence[bytes], dst: bytes = DEFAULT_DST,
                     executor: Executor | None = None) -> PointArray:
        """``X25519(key, u(H(x)))`` for each of our own IDs (hashing inside the workers)."""
        slices = _slices(len(ids), executor)
        if slices is None or executor is None:
            return hash_encrypt_chunk((self._key, ids, dst))
        return np.concatenate(executor.map(hash_encrypt_chunk,
                                           [(self._key, list(ids[sl]), dst) for sl in slices]))
