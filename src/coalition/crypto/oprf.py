"""A blinded oblivious PRF in the style of RFC 9497 (OPRF mode 0x00) over edwards25519.

``F(k, x) = H2(x, [k]H1(x))``. The client blinds ``B = [r]H1(x)`` with a fresh random ``r`` per
input; the server returns ``Z = [k]B``; the client unblinds ``N = [r^-1]Z = [k]H1(x)`` and
finalizes ``H2``. The server learns nothing about ``x`` (``B`` is uniform in the group); the
client learns ``F(k, x)`` for its own inputs only (one-more-gap-DH; Jarecki et al., 2014/2016).

Who holds what: :class:`OprfServerKey` (the secret ``k``) stays with the server; the client holds
only per-call blinds (:class:`BlindState`). :meth:`OprfServerKey.evaluate_direct` computes the
PRF on the server's own inputs without blinding (to build a PRF table for unbalanced PSI/PIR).

Deviations from RFC 9497's ``ristretto255-SHA512`` suite (so outputs do not match its test
vectors): the group is the prime-order subgroup of edwards25519 (see
:mod:`coalition.crypto.group`) instead of ristretto255, so received elements are checked for
subgroup membership instead of being decoded as ristretto; ``HashToGroup`` is
:func:`~coalition.crypto.group.hash_to_group` with the context string below as DST; the
``Finalize`` hash is the RFC's construction (SHA-512 over length-prefixed input, element and
``"Finalize"``) applied to the edwards25519 encoding; the verifiable (VOPRF/POPRF) modes and
their DLEQ proofs are not implemented (honest-but-curious server).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.group import (
    POINT_BYTES,
    PointArray,
    as_points,
    hash_to_group,
    hash_to_group_chunk,
    random_scalar,
    scalar_from_bytes,
    scalar_invert,
    scalarmult,
    scalarmult_batch,
    validate_points,
)

__all__ = [
    "CONTEXT",
    "OUTPUT_BYTES",
    "BlindState",
    "OprfServerKey",
    "blind",
    "evaluate_direct_chunk",
    "finalize",
    "finalize_chunk",
    "unblind_chunk",
    "unblind_finalize",
]

CONTEXT = b"OPRFV1-\x00-edwards25519-SHA512-coalition"
OUTPUT_BYTES = 64
_HASH_TO_GROUP_DST = b"HashToGroup-" + CONTEXT


def finalize(x: bytes, unblinded: bytes) -> bytes:
    """RFC 9497 §3.3.1 ``Finalize``: SHA-512(I2OSP(len x,2) || x || I2OSP(32,2) || N || "Finalize")."""
    if len(x) > 0xFFFF:
        raise InputError("OPRF input longer than 65535 bytes")
    return hashlib.sha512(len(x).to_bytes(2, "big") + x + POINT_BYTES.to_bytes(2, "big")
                          + unblinded + b"Finalize").digest()


def finalize_chunk(args: tuple[Sequence[bytes], PointArray]) -> list[bytes]:
    """:func:`finalize` over a chunk: ``args = (inputs, unblinded_points)``."""
    xs, points = args
    data = points.tobytes()
    return [finalize(x, data[i * POINT_BYTES:(i + 1) * POINT_BYTES]) for i, x in enumerate(xs)]


def evaluate_direct_chunk(args: tuple[bytes, Sequence[bytes]]) -> list[bytes]:
    """``F(k, x)`` for each ``x`` of a chunk, computed by the key holder: ``args = (k, xs)``."""
    k, xs = args
    return [finalize(x, scalarmult(k, hash_to_group(x, _HASH_TO_GROUP_DST))) for x in xs]


def unblind_chunk(args: tuple[Sequence[bytes], PointArray, Sequence[bytes]]) -> list[bytes]:
    """Unblind and finalize a chunk: ``args = (inputs, evaluated, blinds)``."""
    xs, evaluated, blinds = args
    data = evaluated.tobytes()
    out = []
    for i, x in enumerate(xs):
        z = data[i * POINT_BYTES:(i + 1) * POINT_BYTES]
        out.append(finalize(x, scalarmult(scalar_invert(blinds[i]), z)))
    return out


@dataclass(frozen=True)
class BlindState:
    """The client's secret per-input blinds, kept until :func:`unblind_finalize`."""

    inputs: tuple[bytes, ...]
    blinds: tuple[bytes, ...]

    def __repr__(self) -> str:
        return f"BlindState(n={len(self.inputs)})"


def _blind_chunk(xs: Sequence[bytes]) -> tuple[list[bytes], PointArray]:
    blinds = [random_scalar() for _ in xs]
    hashed = hash_to_group_chunk((xs, _HASH_TO_GROUP_DST))
    data = hashed.tobytes()
    out = [scalarmult(r, data[i * POINT_BYTES:(i + 1) * POINT_BYTES])
           for i, r in enumerate(blinds)]
    arr = (np.frombuffer(b"".join(out), dtype=np.uint8).reshape(-1, POINT_BYTES).copy()
           if out else np.zeros((0, POINT_BYTES), dtype=np.uint8))
    return blinds, arr


def blind(inputs: Sequence[bytes], executor: Executor | None = None) -> tuple[BlindState, PointArray]:
    """Client: blind each input with a fresh scalar; send the array, keep the state."""
    xs = [bytes(x) for x in inputs]
    if executor is None or executor.workers == 1 or len(xs) < 4096:
        parts = [_blind_chunk(xs)]
    else:
        parts = executor.map(_blind_chunk, [xs[sl] for sl in
                                            chunk_slices(len(xs), executor.workers * 4, min_size=1024)])
    blinds = [b for p in parts for b in p[0]]
    arr = (np.concatenate([p[1] for p in parts]) if parts
           else np.zeros((0, POINT_BYTES), dtype=np.uint8))
    return BlindState(tuple(xs), tuple(blinds)), arr


def unblind_finalize(state: BlindState, evaluated: PointArray | Sequence[bytes],
                     executor: Executor | None = None) -> list[bytes]:
    """Client: check the server's elements, unblind them and finalize: ``F(k, x)`` per input."""
    arr = as_points(evaluated)
    if arr.shape[0] != len(state.inputs):
        raise CryptoError("server returned a different number of elements",
                          expected=len(state.inputs), got=int(arr.shape[0]))
    validate_points(arr)
    n = len(state.inputs)
    if executor is None or executor.workers == 1 or n < 4096:
        return unblind_chunk((state.inputs, arr, state.blinds))
    slices = chunk_slices(n, executor.workers * 4, min_size=1024)
    parts = executor.map(unblind_chunk,
                         [(state.inputs[sl], arr[sl], state.blinds[sl]) for sl in slices])
    return [y for part in parts for y in part]


class OprfServerKey:
    """The server's OPRF secret ``k``: evaluates blinded elements and its own inputs."""

    __slots__ = ("_k",)

    def __init__(self, k: bytes) -> None:
        self._k = scalar_from_bytes(k)

    @classmethod
    def generate(cls) -> OprfServerKey:
        """A fresh random key."""
        return cls(random_scalar())

    def to_bytes(self) -> bytes:
        """The secret scalar, for the owner's key store (never for the wire)."""
        return self._k

    def __repr__(self) -> str:
        return "OprfServerKey(<secret>)"

    def evaluate(self, blinded: PointArray | Sequence[bytes],
                 executor: Executor | None = None) -> PointArray:
        """Server: ``[k]B`` for each blinded element, after checking each is a subgroup point."""
        arr = as_points(blinded)
        validate_points(arr)
        return scalarmult_batch(self._k, arr, executor)

    def evaluate_direct(self, inputs: Sequence[bytes],
                        executor: Executor | None = None) -> list[bytes]:
        """Server: ``F(k, x)`` for its own inputs, no blinding (PRF tables, tests)."""
        xs = [bytes(x) for x in inputs]
        if executor is None or executor.workers == 1 or len(xs) < 4096:
            return evaluate_direct_chunk((self._k, xs))
        slices = chunk_slices(len(xs), executor.workers * 4, min_size=1024)
        parts = executor.map(evaluate_direct_chunk, [(self._k, xs[sl]) for sl in slices])
        return [y for part in parts for y in part]
