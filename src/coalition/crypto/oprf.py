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

**Crypto suites** (``suite=``, :mod:`coalition.crypto.suite`). Under ``standard``, everything
above. Under ``sm``: the SM2 group (33-byte compressed points, :mod:`coalition.crypto.sm.group`),
``HashToGroup`` = ``SM2_XMD:SM3_SSWU_RO_`` with DST ``"HashToGroup-" || SM_CONTEXT``, and
``Finalize`` = SM3 over the same length-prefixed input (32-byte outputs,
:func:`output_bytes`). A key, a blind state and an evaluation belong to one suite; an element
of the other group fails validation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.sm3 import sm3
from coalition.crypto.suite import CryptoSuite, PrimeGroup, primitives

__all__ = [
    "CONTEXT",
    "OUTPUT_BYTES",
    "SM_CONTEXT",
    "BlindState",
    "OprfServerKey",
    "blind",
    "evaluate_direct_chunk",
    "finalize",
    "finalize_chunk",
    "output_bytes",
    "point_bytes",
    "unblind_chunk",
    "unblind_finalize",
]

CONTEXT = b"OPRFV1-\x00-edwards25519-SHA512-coalition"
SM_CONTEXT = b"OPRFV1-\x00-SM2-SM3-coalition"
OUTPUT_BYTES = 64
"""Output width under the ``standard`` suite (:func:`output_bytes` for any suite)."""

PointArray = npt.NDArray[np.uint8]
Suite = CryptoSuite | str


def _standard(suite: Suite) -> bool:
    return CryptoSuite(suite) == CryptoSuite.STANDARD


def _group(suite: Suite) -> PrimeGroup:
    return primitives(suite).group


def _dst(suite: Suite) -> bytes:
    return b"HashToGroup-" + (CONTEXT if _standard(suite) else SM_CONTEXT)


def output_bytes(suite: Suite = CryptoSuite.STANDARD) -> int:
    """Bytes of ``F(k, x)``: 64 (SHA-512) under ``standard``, 32 (SM3) under ``sm``."""
    return OUTPUT_BYTES if _standard(suite) else 32


def point_bytes(suite: Suite = CryptoSuite.STANDARD) -> int:
    """Bytes of one blinded or evaluated element on the wire (32 or 33)."""
    return _group(suite).POINT_BYTES


def finalize(x: bytes, unblinded: bytes, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """RFC 9497 §3.3.1 ``Finalize``: Hash(I2OSP(len x,2) || x || I2OSP(len N,2) || N ||
    "Finalize") with SHA-512 (``standard``) or SM3 (``sm``)."""
    if len(x) > 0xFFFF:
        raise InputError("OPRF input longer than 65535 bytes")
    data = (len(x).to_bytes(2, "big") + x + len(unblinded).to_bytes(2, "big") + unblinded
            + b"Finalize")
    return hashlib.sha512(data).digest() if _standard(suite) else sm3(data)


def finalize_chunk(args: tuple[Sequence[bytes], PointArray, str]) -> list[bytes]:
    """:func:`finalize` over a chunk: ``args = (inputs, unblinded_points, suite)``."""
    xs, points, suite = args
    width = _group(suite).POINT_BYTES
    data = points.tobytes()
    return [finalize(x, data[i * width:(i + 1) * width], suite) for i, x in enumerate(xs)]


def evaluate_direct_chunk(args: tuple[bytes, Sequence[bytes], str]) -> list[bytes]:
    """``F(k, x)`` for each ``x`` of a chunk, computed by the key holder:
    ``args = (k, xs, suite)``."""
    k, xs, suite = args
    group, dst = _group(suite), _dst(suite)
    return [finalize(x, group.scalarmult(k, group.hash_to_group(x, dst)), suite) for x in xs]


def unblind_chunk(args: tuple[Sequence[bytes], PointArray, Sequence[bytes], str]) -> list[bytes]:
    """Unblind and finalize a chunk: ``args = (inputs, evaluated, blinds, suite)``."""
    xs, evaluated, blinds, suite = args
    group = _group(suite)
    width = group.POINT_BYTES
    data = evaluated.tobytes()
    out = []
    for i, x in enumerate(xs):
        z = data[i * width:(i + 1) * width]
        out.append(finalize(x, group.scalarmult(group.scalar_invert(blinds[i]), z), suite))
    return out


@dataclass(frozen=True)
class BlindState:
    """The client's secret per-input blinds, kept until :func:`unblind_finalize`."""

    inputs: tuple[bytes, ...]
    blinds: tuple[bytes, ...]
    suite: str = CryptoSuite.STANDARD.value

    def __repr__(self) -> str:
        return f"BlindState(n={len(self.inputs)}, suite={self.suite})"


def _empty(suite: Suite) -> PointArray:
    return np.zeros((0, _group(suite).POINT_BYTES), dtype=np.uint8)


def _blind_chunk(args: tuple[Sequence[bytes], str]) -> tuple[list[bytes], PointArray]:
    xs, suite = args
    group = _group(suite)
    width = group.POINT_BYTES
    blinds = [group.random_scalar() for _ in xs]
    hashed = group.hash_to_group_chunk((xs, _dst(suite)))
    data = hashed.tobytes()
    out = [group.scalarmult(r, data[i * width:(i + 1) * width]) for i, r in enumerate(blinds)]
    arr = (np.frombuffer(b"".join(out), dtype=np.uint8).reshape(-1, width).copy()
           if out else _empty(suite))
    return blinds, arr


def blind(inputs: Sequence[bytes], executor: Executor | None = None,
          suite: Suite = CryptoSuite.STANDARD) -> tuple[BlindState, PointArray]:
    """Client: blind each input with a fresh scalar; send the array, keep the state."""
    name = CryptoSuite(suite).value
    xs = [bytes(x) for x in inputs]
    if executor is None or executor.workers == 1 or len(xs) < 4096:
        parts = [_blind_chunk((xs, name))]
    else:
        parts = executor.map(_blind_chunk, [(xs[sl], name) for sl in
                                            chunk_slices(len(xs), executor.workers * 4, min_size=1024)])
    blinds = [b for p in parts for b in p[0]]
    arr = np.concatenate([p[1] for p in parts]) if parts else _empty(name)
    return BlindState(tuple(xs), tuple(blinds), name), arr


def unblind_finalize(state: BlindState, evaluated: PointArray | Sequence[bytes],
                     executor: Executor | None = None) -> list[bytes]:
    """Client: check the server's elements, unblind them and finalize: ``F(k, x)`` per input."""
    suite = state.suite
    group = _group(suite)
    arr = group.as_points(evaluated)
    if arr.shape[0] != len(state.inputs):
        raise CryptoError("server returned a different number of elements",
                          expected=len(state.inputs), got=int(arr.shape[0]))
    group.validate_points(arr)
    n = len(state.inputs)
    if executor is None or executor.workers == 1 or n < 4096:
        return unblind_chunk((state.inputs, arr, state.blinds, suite))
    slices = chunk_slices(n, executor.workers * 4, min_size=1024)
    parts = executor.map(unblind_chunk,
                         [(state.inputs[sl], arr[sl], state.blinds[sl], suite) for sl in slices])
    return [y for part in parts for y in part]


class OprfServerKey:
    """The server's OPRF secret ``k`` in one suite's group: evaluates blinded elements and its
    own inputs."""

    __slots__ = ("_k", "suite")

    def __init__(self, k: bytes, suite: Suite = CryptoSuite.STANDARD) -> None:
        self.suite = CryptoSuite(suite).value
        self._k = _group(self.suite).scalar_from_bytes(k)

    @classmethod
    def generate(cls, suite: Suite = CryptoSuite.STANDARD) -> OprfServerKey:
        """A fresh random key."""
        return cls(_group(suite).random_scalar(), suite)

    def to_bytes(self) -> bytes:
        """The secret scalar, for the owner's key store (never for the wire)."""
        return self._k

    def __repr__(self) -> str:
        return f"OprfServerKey(<secret>, suite={self.suite})"

    def evaluate(self, blinded: PointArray | Sequence[bytes],
                 executor: Executor | None = None) -> PointArray:
        """Server: ``[k]B`` for each blinded element, after checking each is a group element."""
        group = _group(self.suite)
        arr = group.as_points(blinded)
        group.validate_points(arr)
        return group.scalarmult_batch(self._k, arr, executor)

    def evaluate_direct(self, inputs: Sequence[bytes],
                        executor: Executor | None = None) -> list[bytes]:
        """Server: ``F(k, x)`` for its own inputs, no blinding (PRF tables, tests)."""
        xs = [bytes(x) for x in inputs]
        if executor is None or executor.workers == 1 or len(xs) < 4096:
            return evaluate_direct_chunk((self._k, xs, self.suite))
        slices = chunk_slices(len(xs), executor.workers * 4, min_size=1024)
        parts = executor.map(evaluate_direct_chunk,
                             [(self._k, xs[sl], self.suite) for sl in slices])
        return [y for part in parts for y in part]
