"""The SM2 group with the byte-level API of :mod:`coalition.crypto.group`, for OT, OPRF and PIR
under the ``sm`` crypto suite.

Elements are 33-byte SEC 1 compressed SM2 points (:mod:`.curve`); scalars are 32-byte
big-endian integers in ``[1, n)``. The curve has prime order ``n`` (cofactor 1), so a point that
decodes onto the curve and is not the identity is a group element: :func:`is_valid_point` is the
whole subgroup check, and every function taking a peer point performs it. Hash-to-group is
:func:`.hash_to_curve.hash_to_curve` (suite ``SM2_XMD:SM3_SSWU_RO_``) under the caller's
domain separation tag. Arithmetic is libcrypto's; randomness comes only from ``secrets``.

Batch API as :mod:`coalition.crypto.group`: ``(n, 33)`` ``uint8`` arrays, module-level
``*_chunk`` functions for ``executor.map``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.curve import POINT_BYTES, SCALAR_BYTES, SM2
from coalition.crypto.sm.hash_to_curve import hash_to_curve

__all__ = [
    "ORDER",
    "POINT_BYTES",
    "SCALAR_BYTES",
    "add",
    "as_points",
    "hash_to_group",
    "hash_to_group_batch",
    "hash_to_group_chunk",
    "is_valid_point",
    "random_scalar",
    "scalar_from_bytes",
    "scalar_invert",
    "scalarmult",
    "scalarmult_base",
    "scalarmult_batch",
    "scalarmult_chunk",
    "sub",
    "validate_points",
]

ORDER = SM2.n
PointArray = npt.NDArray[np.uint8]


def _int(scalar: bytes) -> int:
    value = int.from_bytes(scalar, "big")
    if len(scalar) != SCALAR_BYTES or not 0 < value < ORDER:
        raise CryptoError("SM2 scalar out of range (must be in 1..n-1)")
    return value


def _bytes(value: int) -> bytes:
    return value.to_bytes(SCALAR_BYTES, "big")


def random_scalar() -> bytes:
    """A uniformly random scalar in ``[1, n)``."""
    return _bytes(SM2.random_scalar())


def scalar_from_bytes(data: bytes) -> bytes:
    """Validate a 32-byte big-endian scalar in ``[1, n)`` and return it."""
    _int(data)
    return bytes(data)


def scalar_invert(s: bytes) -> bytes:
    """``s^-1 mod n``."""
    return _bytes(pow(_int(s), -1, ORDER))


def is_valid_point(p: bytes) -> bool:
    """True if ``p`` is the compressed encoding of a group element other than the identity."""
    return len(p) == POINT_BYTES and SM2.is_valid_point(p)


def scalarmult(s: bytes, p: bytes) -> bytes:
    """``[s]p``; :class:`CryptoError` for an invalid point or scalar."""
    return SM2.scalarmult(_int(s), p)


def scalarmult_base(s: bytes) -> bytes:
    """``[s]G``."""
    return SM2.scalarmult_base(_int(s))


def add(p: bytes, q: bytes) -> bytes:
    """``p + q``; :class:`CryptoError` for an invalid input or the identity."""
    return SM2.add(p, q)


def sub(p: bytes, q: bytes) -> bytes:
    """``p - q`` (negation flips the parity byte of a compressed point: ``y != 0`` in a group
    of odd prime order)."""
    if not is_valid_point(q):
        raise CryptoError("not a point of the SM2 group")
    return SM2.add(p, bytes([q[0] ^ 1]) + q[1:])


def hash_to_group(msg: bytes, dst: bytes) -> bytes:
    """``hash_to_curve`` of suite ``SM2_XMD:SM3_SSWU_RO_`` under ``dst`` (compressed)."""
    return hash_to_curve(msg, dst)


def _rows(arr: PointArray) -> list[bytes]:
    data = np.ascontiguousarray(arr).tobytes()
    return [data[i:i + POINT_BYTES] for i in range(0, len(data), POINT_BYTES)]


def _pack(rows: list[bytes]) -> PointArray:
    if not rows:
        return np.zeros((0, POINT_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, POINT_BYTES).copy()


def as_points(points: PointArray | Sequence[bytes]) -> PointArray:
    """Normalise a list of 33-byte strings or an ``(n, 33)`` array to a ``(n, 33)`` array."""
    if isinstance(points, np.ndarray):
        if points.ndim != 2 or points.shape[1] != POINT_BYTES or points.dtype != np.uint8:
            raise InputError("points must be an (n, 33) uint8 array",
                             shape=list(points.shape), dtype=str(points.dtype))
        return points
    if any(len(p) != POINT_BYTES for p in points):
        raise InputError("every point must be 33 bytes")
    return _pack([bytes(p) for p in points])


def validate_points(points: PointArray) -> None:
    """Raise :class:`CryptoError` unless every row is a group element other than the identity."""
    for i, row in enumerate(_rows(as_points(points))):
        if not SM2.is_valid_point(row):
            raise CryptoError("received an invalid group element", index=i)


def scalarmult_chunk(args: tuple[bytes, PointArray]) -> PointArray:
    """``[s]p`` for every row of a chunk: ``args = (scalar, points)``. For ``executor.map``."""
    s, points = args
    k = _int(s)
    out = []
    for i, row in enumerate(_rows(points)):
        try:
            out.append(SM2.scalarmult(k, row))
        except CryptoError as exc:
            raise CryptoError("received an invalid group element", index=i) from exc
    return _pack(out)


def hash_to_group_chunk(args: tuple[Sequence[bytes], bytes]) -> PointArray:
    """:func:`hash_to_group` over a chunk: ``args = (messages, dst)``. For ``executor.map``."""
    msgs, dst = args
    return _pack([hash_to_curve(m, dst) for m in msgs])


def _chunks(n: int, workers: int) -> list[slice]:
    return chunk_slices(n, workers * 4, min_size=512)  # SM2 costs ~8x X25519: split sooner


def scalarmult_batch(s: bytes, points: PointArray | Sequence[bytes],
                     executor: Executor | None = None) -> PointArray:
    """``[s]p`` for every point, spread over ``executor``."""
    arr = as_points(points)
    if executor is None or arr.shape[0] == 0:
        return scalarmult_chunk((s, arr))
    parts = executor.map(scalarmult_chunk,
                         [(s, arr[sl]) for sl in _chunks(arr.shape[0], executor.workers)])
    return np.concatenate(parts) if parts else np.zeros((0, POINT_BYTES), dtype=np.uint8)


def hash_to_group_batch(msgs: Sequence[bytes], dst: bytes,
                        executor: Executor | None = None) -> PointArray:
    """:func:`hash_to_group` for every message, spread over ``executor``."""
    if executor is None or len(msgs) == 0:
        return hash_to_group_chunk((msgs, dst))
    parts = executor.map(hash_to_group_chunk,
                         [(list(msgs[sl]), dst) for sl in _chunks(len(msgs), executor.workers)])
    return np.concatenate(parts)
