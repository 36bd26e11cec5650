"""A commutative cipher for ECDH-PSI: X25519 scalar multiplication on hashed u-coordinates.

``E_a(x) = X25519(a, H(x))``, so ``E_a(E_b(x)) = E_b(E_a(x))`` (Meadows 1986; Huberman,
Franklin, Hogg 1999). ``H`` is SHA-256 of a domain tag and the ID with bit 255 cleared, used
directly as the Montgomery u-coordinate — the choice of the open interconnection spec's
recommended ECDH-PSI suite (Curve25519 with the hash as the x-coordinate). We use it because
X25519 is the fastest constant-time scalar multiplication reachable from Python here
(OpenSSL through ``cryptography``, ≈ 2× edwards25519 in libsodium).

Why this is sound: RFC 7748 X25519 clamps the scalar to a multiple of the cofactor 8, and the
ladder computes ``u([k]P)`` for ``P`` on the curve or on its quadratic twist. Both groups have
cofactor dividing 8 and a ~2^252 prime subgroup (twist security ≈ 2^126, Bernstein 2006), so
every output lies in a prime-order subgroup and scalar multiplications commute. A u-coordinate
identifies a point up to sign, which commutes with scalar multiplication, so comparing
u-coordinates compares points. Values received from a peer that map to a low-order point give
the all-zero output, which is refused (:class:`CryptoError`).

Batch API: values are ``(n, 32)`` ``uint8`` arrays. :func:`x25519_chunk` and
:func:`hash_ids_chunk` are module-level for ``executor.map``. Keys come from ``secrets``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.group import PointArray, as_points

__all__ = [
    "DEFAULT_DST",
    "VALUE_BYTES",
    "CommutativeKey",
    "hash_encrypt_chunk",
    "hash_ids",
    "hash_ids_chunk",
    "x25519_chunk",
]

VALUE_BYTES = 32
DEFAULT_DST = b"coalition/psi/ecdh/x25519-sha256/v1"


def hash_ids_chunk(args: tuple[Sequence[bytes], bytes]) -> PointArray:
    """``H(x)`` for each ID of a chunk: ``args = (ids, dst)``. For ``executor.map``."""
    ids, dst = args
    prefix = hashlib.sha256(dst)
    out = np.empty((len(ids), VALUE_BYTES), dtype=np.uint8)
    buf = bytearray()
    for x in ids:
        h = prefix.copy()
        h.update(len(x).to_bytes(4, "big"))  # length prefix: no ambiguity between dst and id
        h.update(x)
        buf += h.digest()
    if ids:
        out[:] = np.frombuffer(bytes(buf), dtype=np.uint8).reshape(-1, VALUE_BYTES)
        out[:, 31] &= 0x7F  # X25519 ignores bit 255; clearing it makes the encoding canonical
    return out


def hash_ids(ids: Sequence[bytes], dst: bytes = DEFAULT_DST) -> PointArray:
    """Hash IDs to X25519 u-coordinates (see module docstring)."""
    return hash_ids_chunk((ids, dst))


def x25519_chunk(args: tuple[bytes, PointArray]) -> PointArray:
    """``X25519(k, u)`` for every row: ``args = (private_key_bytes, values)``."""
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


class CommutativeKey:
    """One party's secret X25519 scalar for ECDH-PSI. Never leaves its owner.

    ``encrypt`` applies the key to hashed IDs (stage one) or to a peer's values (stage two);
    the order in which two keys are applied does not change the result.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise CryptoError("X25519 key must be 32 bytes", length=len(key))
        self._key = bytes(key)

    @classmethod
    def generate(cls) -> CommutativeKey:
        """A fresh random key (libsodium-grade randomness via ``secrets``)."""
        return cls(secrets.token_bytes(32))

    def __repr__(self) -> str:
        return "CommutativeKey(<secret>)"

    def encrypt(self, values: PointArray | Sequence[bytes],
                executor: Executor | None = None) -> PointArray:
        """``X25519(key, u)`` for every row, spread over ``executor`` when given."""
        arr = as_points(values) if not isinstance(values, np.ndarray) else values
        if arr.ndim != 2 or arr.shape[1] != VALUE_BYTES or arr.dtype != np.uint8:
            raise InputError("values must be an (n, 32) uint8 array", shape=list(arr.shape))
        if executor is None or executor.workers == 1 or arr.shape[0] < 4096:
            return x25519_chunk((self._key, arr))
        slices = chunk_slices(arr.shape[0], executor.workers * 4, min_size=2048)
        parts = executor.map(x25519_chunk, [(self._key, arr[sl]) for sl in slices])
        return np.concatenate(parts)

    def hash_encrypt(self, ids: Sequence[bytes], dst: bytes = DEFAULT_DST,
                     executor: Executor | None = None) -> PointArray:
        """``X25519(key, H(x))`` for each ID (hashing inside the workers: one pass)."""
        return _hash_encrypt(self._key, ids, dst, executor)


def hash_encrypt_chunk(args: tuple[bytes, Sequence[bytes], bytes]) -> PointArray:
    """``X25519(k, H(x))`` for each ID of a chunk in one pass: ``args = (key, ids, dst)``."""
    key_bytes, ids, dst = args
    return x25519_chunk((key_bytes, hash_ids_chunk((ids, dst))))


def _hash_encrypt(key: bytes, ids: Sequence[bytes], dst: bytes,
                  executor: Executor | None) -> PointArray:
    if executor is None or executor.workers == 1 or len(ids) < 4096:
        return hash_encrypt_chunk((key, ids, dst))
    slices = chunk_slices(len(ids), executor.workers * 4, min_size=2048)
    return np.concatenate(executor.map(hash_encrypt_chunk,
                                       [(key, list(ids[sl]), dst) for sl in slices]))
