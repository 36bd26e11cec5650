"""The prime-order subgroup of edwards25519, over libsodium (PyNaCl): scalars, points,
hash-to-group, and batch operations for OPRF, OT and PIR.

Elements are 32-byte compressed edwards25519 points that lie in the prime-order subgroup of
order ``L = 2^252 + 27742317777372353535851937790883648493`` (not the full curve of order
``8L``). Scalars are 32-byte little-endian integers reduced mod ``L``.

Why edwards25519 and not ristretto255: PyNaCl 1.6 exposes no ristretto255 binding. Working in
the ``L``-order subgroup gives the same prime-order abstraction provided every element that
arrives from a peer is checked with :func:`is_valid_point` (libsodium's check: canonical
encoding, on the curve, in the main subgroup, not of small order) — which every function here
taking untrusted points does. The cost is the encoding: one subgroup element has one encoding,
but outputs are not ristretto255-compatible.

Hash-to-group (:func:`hash_to_group`) follows the random-oracle shape of RFC 9380 §3
(``hash_to_curve``): ``expand_message_xmd`` with SHA-512 (RFC 9380 §5.3.1) gives 64 uniform
bytes; each 32-byte half is mapped with libsodium's Elligator 2 map
``crypto_core_ed25519_from_uniform`` (which clears the cofactor, so it lands in the subgroup),
and the two points are added. One map alone is not indifferentiable from a random oracle; the
sum of two is (Brier et al., CRYPTO 2010; RFC 9380 §2.2.3). The map and its field-element
derivation differ from the RFC 9380 ``edwards25519_XMD:SHA-512_ELL2_RO_`` suite, so outputs
do not match its test vectors.

Batch API: points travel as ``(n, 32)`` ``uint8`` arrays (or lists of 32-byte ``bytes``, which
:func:`as_points` converts). The ``*_chunk`` functions are module-level so that
``executor.map`` can ship them to worker processes. Randomness comes only from ``secrets``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from nacl import bindings as sodium
from nacl.exceptions import CryptoError as _NaclCryptoError
from nacl.exceptions import RuntimeError as _NaclRuntimeError

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError

__all__ = [
    "ORDER",
    "POINT_BYTES",
    "SCALAR_BYTES",
    "PointArray",
    "add",
    "as_points",
    "expand_message_xmd",
    "hash_to_group",
    "hash_to_group_batch",
    "hash_to_group_chunk",
    "is_valid_point",
    "random_scalar",
    "scalar_from_bytes",
    "scalar_invert",
    "scalar_mul",
    "scalarmult",
    "scalarmult_base",
    "scalarmult_batch",
    "scalarmult_chunk",
    "sub",
    "validate_points",
]

POINT_BYTES = 32
SCALAR_BYTES = 32
ORDER = 2**252 + 27742317777372353535851937790883648493

PointArray = npt.NDArray[np.uint8]
"""``(n, 32)`` array of compressed subgroup points."""

_XMD_BLOCK = 128  # SHA-512 input block size (RFC 9380 §5.3.1, s_in_bytes)
_XMD_OUT = 64  # SHA-512 output size (b_in_bytes)


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar mod ``L`` (512 random bits reduced: bias < 2^-250)."""
    while True:
        s = bytes(sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64)))
        if any(s):
            return s


def scalar_from_bytes(data: bytes) -> bytes:
    """Validate a 32-byte canonical non-zero scalar (as stored or received) and return it."""
    if len(data) != SCALAR_BYTES:
        raise CryptoError("scalar must be 32 bytes", length=len(data))
    value = int.from_bytes(data, "little")
    if not 0 < value < ORDER:
        raise CryptoError("scalar out of range (must be in 1..L-1)")
    return bytes(data)


def scalar_invert(s: bytes) -> bytes:
    """``s^-1 mod L``."""
    try:
        return bytes(sodium.crypto_core_ed25519_scalar_invert(s))
    except (_NaclCryptoError, _NaclRuntimeError, TypeError, ValueError) as exc:
        raise CryptoError("scalar cannot be inverted") from exc


def scalar_mul(a: bytes, b: bytes) -> bytes:
    """``a * b mod L``."""
    return bytes(sodium.crypto_core_ed25519_scalar_mul(a, b))


def is_valid_point(p: bytes) -> bool:
    """True if ``p`` encodes a point of the prime-order subgroup other than the identity."""
    if len(p) != POINT_BYTES:
        return False
    return bool(sodium.crypto_core_ed25519_is_valid_point(p))


def scalarmult(s: bytes, p: bytes) -> bytes:
    """``[s]p`` without clamping; refuses small-order inputs and an identity result."""
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_noclamp(s, p))
    except (_NaclCryptoError, _NaclRuntimeError, TypeError, ValueError) as exc:
        raise CryptoError("scalar multiplication refused (invalid point or scalar)") from exc


def scalarmult_base(s: bytes) -> bytes:
    """``[s]B`` for the standard base point ``B`` (no clamping)."""
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(s))
    except (_NaclCryptoError, _NaclRuntimeError, TypeError, ValueError) as exc:
        raise CryptoError("base scalar multiplication refused") from exc


def add(p: bytes, q: bytes) -> bytes:
    """``p + q`` of two subgroup points."""
    try:
        return bytes(sodium.crypto_core_ed25519_add(p, q))
    except (_NaclCryptoError, _NaclRuntimeError, TypeError, ValueError) as exc:
        raise CryptoError("point addition refused (invalid point)") from exc


def sub(p: bytes, q: bytes) -> bytes:
    """``p - q`` of two subgroup points."""
    try:
        return bytes(sodium.crypto_core_ed25519_sub(p, q))
    except (_NaclCryptoError, _NaclRuntimeError, TypeError, ValueError) as exc:
        raise CryptoError("point subtraction refused (invalid point)") from exc


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 ``expand_message_xmd`` with SHA-512."""
    if not 0 < len(dst) <= 255:
        raise CryptoError("domain separation tag must be 1..255 bytes")
    ell = -(-length // _XMD_OUT)
    if ell > 255 or length > 65535:
        raise CryptoError("requested length too large for expand_message_xmd")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(
        bytes(_XMD_BLOCK) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime
    ).digest()
    bi = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = [bi]
    for i in range(2, ell + 1):
        bi = hashlib.sha512(bytes(x ^ y for x, y in zip(b0, bi, strict=True))
                            + bytes([i]) + dst_prime).digest()
        out.append(bi)
    return b"".join(out)[:length]


_IDENTITY = bytes([1]) + bytes(31)  # edwards25519 neutral element (0, 1), encoded


def hash_to_group(msg: bytes, dst: bytes) -> bytes:
    """Hash ``msg`` to a subgroup point (random-oracle construction; see module docstring)."""
    uniform = expand_message_xmd(msg, dst, 64)
    p1 = sodium.crypto_core_ed25519_from_uniform(uniform[:32])
    p2 = sodium.crypto_core_ed25519_from_uniform(uniform[32:])
    point = bytes(sodium.crypto_core_ed25519_add(p1, p2))
    # Both halves lie in the prime-order subgroup by construction, so their sum does too: only
    # the identity (probability ~2^-252) needs ruling out, not a full subgroup check.
    if point == _IDENTITY:
        raise CryptoError("hash_to_group produced the identity")
    return point


# -- batch API ------------------------------------------------------------------------------

def as_points(points: PointArray | Sequence[bytes]) -> PointArray:
    """Normalise a list of 32-byte strings or an ``(n, 32)`` array to a ``(n, 32)`` uint8 array."""
    if isinstance(points, np.ndarray):
        if points.ndim != 2 or points.shape[1] != POINT_BYTES or points.dtype != np.uint8:
            raise InputError("points must be an (n, 32) uint8 array",
                             shape=list(points.shape), dtype=str(points.dtype))
        return points
    if any(len(p) != POINT_BYTES for p in points):
        raise InputError("every point must be 32 bytes")
    if not points:
        return np.zeros((0, POINT_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(points), dtype=np.uint8).reshape(-1, POINT_BYTES).copy()


def _rows(arr: PointArray) -> list[bytes]:
    data = arr.tobytes()
    return [data[i:i + POINT_BYTES] for i in range(0, len(data), POINT_BYTES)]


def _pack(rows: list[bytes]) -> PointArray:
    if not rows:
        return np.zeros((0, POINT_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, POINT_BYTES).copy()


def validate_points(points: PointArray) -> None:
    """Raise :class:`CryptoError` unless every row is a valid non-identity subgroup point."""
    for i, row in enumerate(_rows(as_points(points))):
        if not sodium.crypto_core_ed25519_is_valid_point(row):
            raise CryptoError("received an invalid group element", index=i)


def scalarmult_chunk(args: tuple[bytes, PointArray]) -> PointArray:
    """``[s]p`` for every row of a chunk: ``args = (scalar, points)``. For ``executor.map``."""
    s, points = args
    mult = sodium.crypto_scalarmult_ed25519_noclamp
    try:
        return _pack([bytes(mult(s, p)) for p in _rows(points)])
    except (_NaclCryptoError, _NaclRuntimeError) as exc:
        raise CryptoError("scalar multiplication refused (invalid point in batch)") from exc


def hash_to_group_chunk(args: tuple[Sequence[bytes], bytes]) -> PointArray:
    """:func:`hash_to_group` over a chunk: ``args = (messages, dst)``. For ``executor.map``."""
    msgs, dst = args
    return _pack([hash_to_group(m, dst) for m in msgs])


def _chunks(n: int, workers: int) -> list[slice]:
    # a few chunks per worker balances load; tiny chunks are not worth a pickling round trip
    return chunk_slices(n, workers * 4, min_size=2048)


def scalarmult_batch(s: bytes, points: PointArray | Sequence[bytes],
                     executor: Executor | None = None) -> PointArray:
    """``[s]p`` for every point, spread over ``executor`` (a ``coalition.core.Executor``)."""
    arr = as_points(points)
    if executor is None or arr.shape[0] == 0:
        return scalarmult_chunk((s, arr))
    parts = executor.map(scalarmult_chunk,
                         [(s, arr[sl]) for sl in _chunks(arr.shape[0], executor.workers)])
    return np.concatenate(parts) if parts else np.zeros((0, POINT_BYTES), dtype=np.uint8)


def hash_to_group_batch(msgs: Sequence[bytes], dst: bytes, executor: Executor | None = None) -> PointArray:
    """:func:`hash_to_group` for every message, spread over ``executor``."""
    if executor is None or len(msgs) == 0:
        return hash_to_group_chunk((msgs, dst))
    parts = executor.map(hash_to_group_chunk,
                         [(list(msgs[sl]), dst) for sl in _chunks(len(msgs), executor.workers)])
    return np.concatenate(parts)
