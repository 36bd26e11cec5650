"""Batched 1-out-of-k oblivious transfer: Chou and Orlandi, "The Simplest Protocol for Oblivious
Transfer", LATINCRYPT 2015, §3 (the 1-out-of-n variant), over the prime-order edwards25519
subgroup of :mod:`coalition.crypto.group`.

:mod:`coalition.crypto.ot` implements only 1-out-of-2 (the base OTs of OT extension); this is
the same construction with ``k`` choices, for PIR with decoys:

1. sender: ``a`` random, sends ``A = [a]G`` (and keeps ``T = [a]A``);
2. receiver, for choice ``c_i`` in ``0..k-1``: ``b_i`` random, sends ``B_i = [b_i]G + [c_i]A``;
   its pad is ``H(i, A, B_i, [b_i]A)``;
3. sender: pad ``j`` of transfer ``i`` is ``H(i, A, B_i, [a]B_i - [j]T)``; it sends every
   message ``j`` xored with pad ``j``.

``[a]B_i - [j]T = [b_i]A + [c_i - j]T`` equals the receiver's point exactly when ``j = c_i``;
any other pad needs ``[a]([c_i - j]A)``, a computational Diffie-Hellman value (random-oracle
``H`` = SHAKE-256 with a domain tag, binding ``i`` and the transcript). Who learns what
(semi-honest): the sender learns nothing about ``c_i`` (``B_i`` is uniform), the receiver
learns exactly one message per transfer. Every point from the peer is checked to lie in the
prime-order subgroup; ``a`` and ``b_i`` are fresh per batch.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
import numpy.typing as npt
from nacl import bindings as sodium

from coalition.core.errors import CryptoError, InputError
from coalition.crypto import group

__all__ = ["receiver_choose", "receiver_pads", "sender_pads", "sender_setup"]

U8 = npt.NDArray[np.uint8]
_DOMAIN = b"coalition-pir/ot-1-of-k"


def _pad(i: int, a_point: bytes, b_point: bytes, shared: bytes, length: int) -> bytes:
    return hashlib.shake_256(_DOMAIN + i.to_bytes(8, "little") + a_point + b_point
                             + shared).digest(length)


def sender_setup() -> tuple[bytes, bytes]:
    """``(a, A = [a]G)``: the secret stays, ``A`` goes to the receiver."""
    a = group.random_scalar()
    return a, group.scalarmult_base(a)


def sender_pads(a: bytes, a_point: bytes, b_points: U8, k: int, length: int) -> U8:
    """Every pad: ``(n, k, length)``; row ``i``, column ``j`` masks message ``j`` of transfer
    ``i``. ``b_points`` are checked to be subgroup elements."""
    group.validate_points(b_points)
    t = group.scalarmult(a, a_point)
    out = np.empty((b_points.shape[0], k, length), dtype=np.uint8)
    sub = sodium.crypto_core_ed25519_sub
    for i, row in enumerate(b_points):
        b_point = row.tobytes()
        p = group.scalarmult(a, b_point)
        pads = []
        for _ in range(k):
            pads.append(_pad(i, a_point, b_point, p, length))
            p = bytes(sub(p, t))
        out[i] = np.frombuffer(b"".join(pads), dtype=np.uint8).reshape(k, length)
    return out


def receiver_choose(a_point: bytes, choices: list[int], k: int) -> tuple[list[bytes], U8]:
    """``(secrets b_i, points B_i)`` for ``choices`` in ``0..k-1``."""
    if not group.is_valid_point(a_point):
        raise CryptoError("OT sender sent an invalid group element")
    if any(not 0 <= c < k for c in choices):
        raise InputError("OT choice out of range", k=k)
    multiples = [b""]  # multiples[c] = [c]A
    if k > 1:
        multiples.append(a_point)
    add = sodium.crypto_core_ed25519_add
    for _ in range(2, k):
        multiples.append(bytes(add(multiples[-1], a_point)))
    scalars = [group.random_scalar() for _ in choices]
    rows = []
    for b, c in zip(scalars, choices, strict=True):
        base = group.scalarmult_base(b)
        rows.append(bytes(add(base, multiples[c])) if c else base)
    return scalars, group.as_points(rows)


def receiver_pads(a_point: bytes, scalars: list[bytes], b_points: U8, length: int) -> U8:
    """The receiver's pad of each transfer, ``(n, length)``."""
    out = np.empty((len(scalars), length), dtype=np.uint8)
    for i, (b, row) in enumerate(zip(scalars, b_points, strict=True)):
        shared = group.scalarmult(b, a_point)
        out[i] = np.frombuffer(_pad(i, a_point, row.tobytes(), shared, length), dtype=np.uint8)
    return out


def random_choice(k: int) -> int:
    """A uniform choice in ``0..k-1`` from ``secrets``."""
    return secrets.randbelow(k)
