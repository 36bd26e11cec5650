"""The commutative cipher of ECDH-PSI over the SM2 curve (the ``sm`` crypto suite).

``E_k(x) = [k]H(x)`` with ``H`` the hash-to-curve suite ``SM2_XMD:SM3_SSWU_RO_``
(:mod:`.hash_to_curve`) and ``[k]`` libcrypto's SM2 scalar multiplication; privacy rests on DDH
in the prime-order SM2 group (as for the standard suite, :mod:`coalition.crypto.ecdh`).

**Encoding.** A value on the wire is the 32-byte big-endian ``x``-coordinate of the point: ``x``
names ``±P``, and negation commutes with scalar multiplication, so comparing ``x`` compares
points up to sign exactly as X25519's ``u``-coordinate does. Values therefore have the same
width (32 bytes) under both suites and truncate the same way.

**Validation.** Every value from a peer is checked before our key touches it: ``x < p`` and
``x^3 + a x + b`` a square (libcrypto's decompression of ``02 || x``); the curve has prime order
(cofactor 1), so any such point other than the identity is a group element. A failure raises
:class:`CryptoError` naming only the row index; nothing computed from the batch is returned.

Batch API as :mod:`coalition.crypto.ecdh`: ``(n, 32)`` ``uint8`` arrays, module-level
``*_chunk`` functions for ``executor.map``, keys from ``secrets``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.curve import SCALAR_BYTES, SM2
from coalition.crypto.sm.hash_to_curve import SUITE_ID, hash_to_curve_affine

__all__ = [
    "DEFAULT_DST",
    "SUITE",
    "VALUE_BYTES",
    "Sm2CommutativeKey",
    "hash_encrypt_chunk",
    "peer_encrypt_chunk",
    "validate_chunk",
    "validate_values",
]

VALUE_BYTES = 32
SUITE = "sm2-prime-order/xmd-sm3-sswu-ro/x-coordinate/v1"
"""Names hash, group and encoding; parties compare it in the hello."""
DEFAULT_DST = b"coalition/psi/ecdh/v1/" + SUITE_ID

_SMALL_CHUNK = 1024  # SM2 multiplications are ~8x dearer than X25519: parallelise sooner

U8 = npt.NDArray[np.uint8]


def _rows(values: U8) -> list[bytes]:
    data = np.ascontiguousarray(values).tobytes()
    return [data[i : i + VALUE_BYTES] for i in range(0, len(data), VALUE_BYTES)]


def _pack(rows: list[bytes]) -> U8:
    if not rows:
        return np.zeros((0, VALUE_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, VALUE_BYTES).copy()


def validate_chunk(values: U8) -> None:
    """Raise :class:`CryptoError` unless every row is the ``x`` of an SM2 group element."""
    for i, row in enumerate(_rows(values)):
        if not SM2.is_valid_point(b"\x02" + row):
            raise CryptoError("received an invalid group element", index=i)


def peer_encrypt_chunk(args: tuple[bytes, U8]) -> U8:
    """Validate a peer's values, then ``x([k]P)``: ``args = (key, values)``."""
    key_bytes, values = args
    scalar = SM2.scalar_from_bytes(key_bytes)
    try:  # one batch: libcrypto state set up once per chunk, not per point
        out = SM2.scalarmult_many(scalar, (b"\x02" + row for row in _rows(values)))
    except CryptoError as exc:
        raise CryptoError("received an invalid group element",
                          index=exc.details.get("index")) from None
    return _pack([p[1:] for p in out])


def _uncompressed(point: tuple[int, int]) -> bytes:
    return b"\x04" + point[0].to_bytes(SCALAR_BYTES, "big") + point[1].to_bytes(SCALAR_BYTES, "big")


def hash_encrypt_chunk(args: tuple[bytes, Sequence[bytes], bytes]) -> U8:
    """``x([k]H(x))`` for each ID of a chunk: ``args = (key, ids, dst)``. ``H`` runs on GMP
    and hands libcrypto the uncompressed point (no square root to decompress it again)."""
    key_bytes, ids, dst = args
    scalar = SM2.scalar_from_bytes(key_bytes)
    points = (_uncompressed(hash_to_curve_affine(i, dst)) for i in ids)
    return _pack([p[1:] for p in SM2.scalarmult_many(scalar, points)])


def _check_shape(values: U8 | Sequence[bytes]) -> U8:
    arr = values if isinstance(values, np.ndarray) else _pack([bytes(v) for v in values])
    if arr.ndim != 2 or arr.shape[1] != VALUE_BYTES or arr.dtype != np.uint8:
        raise InputError("values must be an (n, 32) uint8 array", shape=list(arr.shape))
    return arr


def _slices(n: int, executor: Executor | None) -> list[slice] | None:
    if executor is None or executor.workers == 1 or n < _SMALL_CHUNK:
        return None
    return chunk_slices(n, executor.workers * 4, min_size=512)


def validate_values(values: U8 | Sequence[bytes], executor: Executor | None = None) -> U8:
    """:func:`validate_chunk` over a batch (spread over ``executor``); returns the array."""
    arr = _check_shape(values)
    slices = _slices(arr.shape[0], executor)
    if slices is None or executor is None:
        validate_chunk(arr)
    else:
        executor.map(validate_chunk, [arr[sl] for sl in slices])
    return arr


class Sm2CommutativeKey:
    """One party's secret SM2 scalar for ECDH-PSI; the API of
    :class:`coalition.crypto.ecdh.CommutativeKey`. Never leaves its owner."""

    __slots__ = ("_key",)

    suite = SUITE
    value_bytes = VALUE_BYTES

    def __init__(self, key: bytes) -> None:
        SM2.scalar_from_bytes(key)
        self._key = bytes(key)

    @classmethod
    def generate(cls) -> Sm2CommutativeKey:
        """A fresh random key (``secrets``)."""
        return cls(SM2.random_scalar().to_bytes(SCALAR_BYTES, "big"))

    def __repr__(self) -> str:
        return "Sm2CommutativeKey(<secret>)"

    def encrypt(self, values: U8 | Sequence[bytes], executor: Executor | None = None) -> U8:
        """Validate every row as a group element, then apply the key."""
        arr = _check_shape(values)
        slices = _slices(arr.shape[0], executor)
        if slices is None or executor is None:
            return peer_encrypt_chunk((self._key, arr))
        return np.concatenate(
            executor.map(peer_encrypt_chunk, [(self._key, arr[sl]) for sl in slices])
        )

    def hash_encrypt(
        self, ids: Sequence[bytes], dst: bytes = DEFAULT_DST, executor: Executor | None = None
    ) -> U8:
        """``x([k]H(x))`` for each of our own IDs (hashing inside the workers)."""
        slices = _slices(len(ids), executor)
        if slices is None or executor is None:
            return hash_encrypt_chunk((self._key, ids, dst))
        return np.concatenate(
            executor.map(hash_encrypt_chunk, [(self._key, list(ids[sl]), dst) for sl in slices])
        )
