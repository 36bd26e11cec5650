"""Batched 1-out-of-k oblivious transfer for PIR with decoys: ``d = 2`` parallel 1-out-of-``r``
Chou–Orlandi OTs (``r = ceil(sqrt(k))``) combined as Naor and Pinkas do ("Oblivious Transfer
with Adaptive Queries", CRYPTO 1999, §3: 1-out-of-N from OTs on the digits of the index).

1-out-of-r OT is Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer", LATINCRYPT
2015, over the prime-order edwards25519 subgroup of :mod:`coalition.crypto.group`
(:mod:`coalition.crypto.ot` has only 1-out-of-2):

1. sender: ``a`` random, sends ``A = [a]G``, keeps ``T = [a]A``;
2. receiver, for transfer ``i`` and digit ``l`` of its choice ``c_i`` (base ``r``):
   ``b`` random, sends ``B_il = [b]G + [c_il]A``; its key is ``H(i, l, A, B_il, [b]A)``;
3. sender: key ``x`` of ``(i, l)`` is ``H(i, l, A, B_il, [a]B_il - [x]T)``, for ``x < r``.
   Message ``j`` (digits ``j_0, j_1``) of transfer ``i`` is xored with
   ``pad_ij = H'(i, j, K_i0[j_0], K_i1[j_1])``.

``[a]B_il - [x]T = [b]A + [c_il - x]T`` matches the receiver's point only at ``x = c_il``;
every other key needs a computational Diffie-Hellman value, and every ``j != c_i`` differs
from ``c_i`` in at least one digit, so its pad stays pseudorandom (random-oracle ``H``, ``H'``
= SHAKE-256 with domain tags, binding the index and the transcript). Who learns what
(semi-honest): the sender nothing about ``c_i`` (each ``B_il`` is uniform); the receiver exactly
one message per transfer. Cost per transfer: 2 scalar multiplications and ``2r`` point
subtractions for the sender (instead of ``k`` with plain 1-out-of-k CO), ``k`` hashes. Points
from the peer are checked to lie in the prime-order subgroup; ``a`` and ``b`` are fresh.

Under the ``sm`` crypto suite (``suite=``) the group is SM2 (:mod:`coalition.crypto.sm.group`)
and ``H``, ``H'`` are HKDF-SM3 over the same inputs, the domain tags as ``info``.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.sm3 import hkdf_sm3
from coalition.crypto.suite import CryptoSuite, primitives

__all__ = ["DIGITS", "radix", "receiver_choose", "receiver_pads", "sender_pads", "sender_setup"]

U8 = npt.NDArray[np.uint8]
DIGITS = 2
_KEY = b"coalition-pir/ot-key"
_PAD = b"coalition-pir/ot-pad"


def radix(k: int) -> int:
    """Base ``r`` of the choice digits: the smallest with ``r**2 >= k``."""
    return max(2, math.isqrt(k - 1) + 1)


Suite = CryptoSuite | str


def _xof(tag: bytes, data: bytes, length: int, suite: Suite) -> bytes:
    if CryptoSuite(suite) == CryptoSuite.SM:
        return hkdf_sm3(data, length=length, info=tag)
    return hashlib.shake_256(tag + data).digest(length)


def _key(t: int, a_point: bytes, b_point: bytes, shared: bytes,
         suite: Suite = CryptoSuite.STANDARD) -> bytes:
    return _xof(_KEY, t.to_bytes(8, "little") + a_point + b_point + shared, 32, suite)


def _pad(i: int, j: int, k0: bytes, k1: bytes, length: int, *,
         suite: Suite = CryptoSuite.STANDARD) -> bytes:
    return _xof(_PAD, i.to_bytes(8, "little") + j.to_bytes(4, "little") + k0 + k1, length,
                suite)


def sender_setup(suite: Suite = CryptoSuite.STANDARD) -> tuple[bytes, bytes]:
    """``(a, A = [a]G)``: the secret stays, ``A`` goes to the receiver."""
    group = primitives(suite).group
    a = group.random_scalar()
    return a, group.scalarmult_base(a)


def _sender_chunk(args: tuple[bytes, bytes, U8, int, int, int]
                  | tuple[bytes, bytes, U8, int, int, int, str]) -> U8:
    a, a_point, b_points, k, length, first = args[:6]
    suite = args[6] if len(args) == 7 else CryptoSuite.STANDARD.value
    group = primitives(suite).group
    r = radix(k)
    t_point = group.scalarmult(a, a_point)
    sub = group.sub
    n = b_points.shape[0] // DIGITS
    out = []
    for i in range(n):
        keys = []
        for lvl in range(DIGITS):
            t = (first + i) * DIGITS + lvl
            b_point = b_points[i * DIGITS + lvl].tobytes()
            p = group.scalarmult(a, b_point)
            row = []
            for _ in range(r):
                row.append(_key(t, a_point, b_point, p, suite))
                p = sub(p, t_point)
            keys.append(row)
        out.append(b"".join(_pad(first + i, j, keys[0][j % r], keys[1][j // r], length, suite=suite)
                            for j in range(k)))
    return np.frombuffer(b"".join(out), dtype=np.uint8).reshape(n, k, length).copy()


def sender_pads(a: bytes, a_point: bytes, b_points: U8, k: int, *, length: int,
                executor: Executor | None = None, suite: Suite = CryptoSuite.STANDARD) -> U8:
    """Every pad, ``(n, k, length)``: row ``i``, column ``j`` masks message ``j`` of transfer
    ``i``. ``b_points`` is ``(n * DIGITS, point bytes)``, checked to be group elements."""
    name = CryptoSuite(suite).value
    primitives(name).group.validate_points(b_points)
    n = b_points.shape[0] // DIGITS
    workers = executor.workers if executor is not None else 1
    slices = chunk_slices(n, workers, min_size=16) or [slice(0, 0)]
    jobs = [(a, a_point, b_points[sl.start * DIGITS:sl.stop * DIGITS], k, length, sl.start,
             name) for sl in slices]
    parts = executor.map(_sender_chunk, jobs) if executor is not None else \
        [_sender_chunk(j) for j in jobs]
    return np.concatenate(parts)


def receiver_choose(a_point: bytes, choices: list[int], k: int,
                    suite: Suite = CryptoSuite.STANDARD) -> tuple[list[bytes], U8]:
    """``(secrets, points)`` for ``choices`` in ``0..k-1``: ``DIGITS`` of each per transfer."""
    group = primitives(suite).group
    if not group.is_valid_point(a_point):
        raise CryptoError("OT sender sent an invalid group element")
    if any(not 0 <= c < k for c in choices):
        raise InputError("OT choice out of range", k=k)
    r = radix(k)
    add = group.add
    multiples = [b"", a_point]  # multiples[x] = [x]A
    for _ in range(2, r):
        multiples.append(add(multiples[-1], a_point))
    scalars, rows = [], []
    for c in choices:
        for digit in (c % r, c // r):
            b = group.random_scalar()
            base = group.scalarmult_base(b)
            scalars.append(b)
            rows.append(add(base, multiples[digit]) if digit else base)
    return scalars, group.as_points(rows)


def receiver_pads(a_point: bytes, scalars: list[bytes], b_points: U8, choices: list[int],
                  *, k: int, length: int, suite: Suite = CryptoSuite.STANDARD) -> U8:
    """The receiver's pad of each transfer (its chosen message's), ``(n, length)``."""
    group = primitives(suite).group
    out = []
    for i, c in enumerate(choices):
        keys = []
        for lvl in range(DIGITS):
            t = i * DIGITS + lvl
            shared = group.scalarmult(scalars[t], a_point)
            keys.append(_key(t, a_point, b_points[t].tobytes(), shared, suite))
        out.append(_pad(i, c, keys[0], keys[1], length, suite=suite))
    return np.frombuffer(b"".join(out), dtype=np.uint8).reshape(len(choices), length).copy()
