"""Batched 1-out-of-2 oblivious transfer: Chou and Orlandi, "The Simplest Protocol for Oblivious
Transfer", LATINCRYPT 2015, over the prime-order edwards25519 subgroup of
:mod:`coalition.crypto.group`.

Random OT (the base OTs of OT extension), for ``count`` transfers at once:

1. sender: ``a`` random, sends ``A = [a]G``;
2. receiver, for choice ``c_i``: ``b_i`` random, sends ``B_i = [b_i]G + c_i A``; keeps
   ``k_i = H(i, A, B_i, [b_i]A)``;
3. sender: ``k_i^0 = H(i, A, B_i, [a]B_i)`` and ``k_i^1 = H(i, A, B_i, [a]B_i - [a]A)``.

Who learns what (semi-honest, random-oracle ``H`` = BLAKE2b with a personalisation string):
the sender learns nothing about the choices (``B_i`` is uniform whatever ``c_i``); the receiver
learns ``k_i^{c_i}`` and nothing about ``k_i^{1 - c_i}`` (computational Diffie-Hellman). Every
point from the peer is checked to lie in the prime-order subgroup. The index ``i`` and the
transcript ``(A, B_i)`` are hashed in, so the keys of one batch are independent of each other
and of every other run; each call draws fresh ``a`` and ``b_i``, so no key is ever reused.

Chosen-message OT (:func:`ot_send` / :func:`ot_receive`) adds one message: the sender pads
``m_i^0`` and ``m_i^1`` with the AES-CTR keystreams of ``k_i^0`` and ``k_i^1``.

The group, ``H`` and the pad cipher come from the crypto suite (``suite=``,
:mod:`coalition.crypto.suite`): edwards25519, BLAKE2b and AES-CTR under ``standard``; the SM2
group, SM3 (``H = SM3(person || i || A || B_i || shared)`` truncated to 16 bytes) and SM4-CTR
under ``sm``. Both sides must use one suite: a point of the other group fails validation.

Each function works under ``ctx.sub(name)`` (default ``"ot"``); a caller running several OT
batches in one context passes distinct names.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from coalition.core.context import Context, MessageKey
from coalition.core.errors import CryptoError, InputError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.sm.sm3 import sm3
from coalition.crypto.suite import CryptoSuite, primitives
from coalition.crypto.symmetric import KEY_BYTES, CtrStream

__all__ = [
    "OT_CHOICE_POINTS",
    "OT_PADDED",
    "OT_SENDER_POINT",
    "ot_receive",
    "ot_send",
    "random_bits",
    "random_ot_receive",
    "random_ot_send",
]

OT_SENDER_POINT = MessageKey("ot_sender_point", "Chou-Orlandi: A = [a]G")
OT_CHOICE_POINTS = MessageKey("ot_choice_points", "Chou-Orlandi: B_i = [b_i]G + c_i A")
OT_PADDED = MessageKey("ot_padded", "chosen-message OT: m^0, m^1 under one-time pads")

U8 = npt.NDArray[np.uint8]
_PERSON = b"coalition-co-ot"  # BLAKE2b personalisation (<= 16 bytes)
_MAX_COUNT = 1 << 20


def _key(i: int, a_point: bytes, b_point: bytes, shared: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=KEY_BYTES, person=_PERSON)
    h.update(i.to_bytes(8, "little"))
    h.update(a_point)
    h.update(b_point)
    h.update(shared)
    return h.digest()


def _key_sm3(i: int, a_point: bytes, b_point: bytes, shared: bytes) -> bytes:
    return sm3(_PERSON, i.to_bytes(8, "little"), a_point, b_point, shared)[:KEY_BYTES]


def _key_fn(suite: CryptoSuite | str) -> Callable[[int, bytes, bytes, bytes], bytes]:
    return _key if CryptoSuite(suite) == CryptoSuite.STANDARD else _key_sm3


def _check_count(count: int) -> None:
    if not 0 < count <= _MAX_COUNT:
        raise InputError("OT batch size out of range", count=count, limit=_MAX_COUNT)


def random_ot_send(ctx: Context, receiver: Party, count: int, *, name: str = "ot",
                   suite: CryptoSuite | str = CryptoSuite.STANDARD) -> tuple[U8, U8]:
    """Sender side of ``count`` random OTs: returns ``(k0, k1)``, each ``(count, 16)`` uint8."""
    _check_count(count)
    group, key_of = primitives(suite).group, _key_fn(suite)
    sub = ctx.sub(name)
    a = group.random_scalar()
    a_point = group.scalarmult_base(a)
    sub.send(receiver, OT_SENDER_POINT, a_point)
    raw = sub.recv(receiver, OT_CHOICE_POINTS)
    if not isinstance(raw, np.ndarray) or raw.shape != (count, group.POINT_BYTES):
        raise ProtocolError("OT receiver sent the wrong number of points", peer=str(receiver),
                            expected=count)
    points = group.as_points(raw)
    group.validate_points(points)
    a_times_a = group.scalarmult(a, a_point)
    k0 = np.empty((count, KEY_BYTES), dtype=np.uint8)
    k1 = np.empty((count, KEY_BYTES), dtype=np.uint8)
    for i, row in enumerate(points):
        b_point = row.tobytes()
        shared = group.scalarmult(a, b_point)
        k0[i] = np.frombuffer(key_of(i, a_point, b_point, shared), dtype=np.uint8)
        other = group.sub(shared, a_times_a)
        k1[i] = np.frombuffer(key_of(i, a_point, b_point, other), dtype=np.uint8)
    return k0, k1


def random_ot_receive(ctx: Context, sender: Party, choices: npt.NDArray[np.bool_], *,
                      name: str = "ot",
                      suite: CryptoSuite | str = CryptoSuite.STANDARD) -> U8:
    """Receiver side: ``choices`` is a bool array; returns ``k^{c_i}`` as ``(count, 16)``."""
    bits = np.asarray(choices)
    if bits.ndim != 1 or bits.dtype != np.bool_:
        raise InputError("OT choices must be a 1-D bool array", dtype=str(bits.dtype))
    count = bits.shape[0]
    _check_count(count)
    group, key_of = primitives(suite).group, _key_fn(suite)
    sub = ctx.sub(name)
    a_point = sub.recv(sender, OT_SENDER_POINT)
    if not isinstance(a_point, bytes) or not group.is_valid_point(a_point):
        raise CryptoError("OT sender sent an invalid group element", peer=str(sender))
    scalars = [group.random_scalar() for _ in range(count)]
    rows = []
    for b, c in zip(scalars, bits.tolist(), strict=True):
        b_point = group.scalarmult_base(b)
        rows.append(group.add(b_point, a_point) if c else b_point)
    sub.send(sender, OT_CHOICE_POINTS, group.as_points(rows))
    keys = np.empty((count, KEY_BYTES), dtype=np.uint8)
    for i, (b, b_point) in enumerate(zip(scalars, rows, strict=True)):
        shared = group.scalarmult(b, a_point)
        keys[i] = np.frombuffer(key_of(i, a_point, b_point, shared), dtype=np.uint8)
    return keys


def _pad(keys: U8, length: int, cipher: str) -> U8:
    return np.stack([CtrStream(k.tobytes(), cipher).read(length) for k in keys]) if len(keys) \
        else np.zeros((0, length), dtype=np.uint8)


def ot_send(ctx: Context, receiver: Party, m0: U8, m1: U8, *, name: str = "ot",
            suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
    """Sender side of chosen-message OT: the receiver gets row ``i`` of ``m0`` or ``m1``.

    ``m0`` and ``m1`` are ``(count, length)`` uint8 arrays of equal shape.
    """
    if m0.shape != m1.shape or m0.ndim != 2 or m0.dtype != np.uint8 or m1.dtype != np.uint8:
        raise InputError("OT messages must be two (count, length) uint8 arrays of one shape",
                         m0=list(m0.shape), m1=list(m1.shape))
    k0, k1 = random_ot_send(ctx, receiver, m0.shape[0], name=name, suite=suite)
    length, cipher = m0.shape[1], primitives(suite).block_cipher
    padded = np.stack([m0 ^ _pad(k0, length, cipher), m1 ^ _pad(k1, length, cipher)])
    ctx.sub(name).send(receiver, OT_PADDED, padded)


def ot_receive(ctx: Context, sender: Party, choices: npt.NDArray[np.bool_], length: int, *,
               name: str = "ot", suite: CryptoSuite | str = CryptoSuite.STANDARD) -> U8:
    """Receiver side of chosen-message OT: row ``i`` of ``m^{choices[i]}``, ``(count, length)``."""
    keys = random_ot_receive(ctx, sender, choices, name=name, suite=suite)
    padded = ctx.sub(name).recv(sender, OT_PADDED)
    count = keys.shape[0]
    if not isinstance(padded, np.ndarray) or padded.shape != (2, count, length) \
            or padded.dtype != np.uint8:
        raise ProtocolError("OT sender sent padded messages of the wrong shape",
                            peer=str(sender), expected=[2, count, length])
    pick = padded[np.asarray(choices, dtype=np.intp), np.arange(count)]
    return np.asarray(pick ^ _pad(keys, length, primitives(suite).block_cipher),
                      dtype=np.uint8)


def random_bits(count: int) -> npt.NDArray[np.bool_]:
    """``count`` uniformly random bits from ``secrets`` (OT choices, extension secrets)."""
    raw = np.frombuffer(secrets.token_bytes((count + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:count].astype(np.bool_)
