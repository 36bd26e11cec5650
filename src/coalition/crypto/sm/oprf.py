"""The blinded OPRF of :mod:`coalition.crypto.oprf` over the SM2 curve (the ``sm`` suite).

``F(k, x) = H2(x, [k]H1(x))`` in the shape of RFC 9497 (OPRF mode 0x00): the client blinds
``B = [r]H1(x)`` with a fresh ``r`` per input, the server returns ``Z = [k]B``, the client
unblinds ``N = [r^-1 mod n]Z = [k]H1(x)`` and finalizes. RFC 9497 defines no SM2 suite, so this
one is defined in its terms: ``HashToGroup`` is :func:`~.hash_to_curve.hash_to_curve`
(``SM2_XMD:SM3_SSWU_RO_``) with DST ``"HashToGroup-" || CONTEXT``; ``Finalize`` is the RFC's
construction (§3.3.1) with SM3 instead of SHA-512, over the 33-byte compressed point. Elements
travel as 33-byte SEC 1 compressed points; every received element is decoded onto the curve
(cofactor 1, identity refused) before a scalar touches it. Privacy: the blinded element is
uniform in the group (the server learns nothing of ``x``); the client learns ``F(k, x)`` for
its own inputs only (one-more-gap-DH, Jarecki et al. 2014). No VOPRF proofs (honest-but-curious
server), as for the standard suite.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.curve import POINT_BYTES, SCALAR_BYTES, SM2
from coalition.crypto.sm.hash_to_curve import hash_to_curve
from coalition.crypto.sm.sm3 import sm3

__all__ = ["CONTEXT", "ELEMENT_BYTES", "blind_chunk", "evaluate_chunk", "evaluate_direct_chunk",
           "finalize", "generate_key", "unblind_chunk"]

U8 = npt.NDArray[np.uint8]
CONTEXT = b"OPRFV1-\x00-SM2-SM3-coalition"
ELEMENT_BYTES = POINT_BYTES
_DST = b"HashToGroup-" + CONTEXT


def generate_key() -> bytes:
    """A fresh secret scalar (``secrets``), 32 bytes big-endian."""
    return SM2.random_scalar().to_bytes(SCALAR_BYTES, "big")


def finalize(x: bytes, unblinded: bytes) -> bytes:
    """RFC 9497 §3.3.1 ``Finalize`` with SM3: SM3(I2OSP(len x,2) || x || I2OSP(33,2) || N ||
    "Finalize")."""
    if len(x) > 0xFFFF:
        raise InputError("OPRF input longer than 65535 bytes")
    return sm3(len(x).to_bytes(2, "big") + x + POINT_BYTES.to_bytes(2, "big") + unblinded
               + b"Finalize")


def _pack(rows: list[bytes]) -> U8:
    if not rows:
        return np.zeros((0, POINT_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, POINT_BYTES).copy()


def _rows(values: U8) -> list[bytes]:
    if values.ndim != 2 or values.shape[1] != POINT_BYTES or values.dtype != np.uint8:
        raise CryptoError("elements must be an (n, 33) uint8 array")
    data = np.ascontiguousarray(values).tobytes()
    return [data[i:i + POINT_BYTES] for i in range(0, len(data), POINT_BYTES)]


def blind_chunk(xs: Sequence[bytes]) -> tuple[list[bytes], U8]:
    """Client: fresh blinds and ``[r]H1(x)`` for each input (blinds stay with the client)."""
    blinds = [SM2.random_scalar() for _ in xs]
    out = [SM2.scalarmult(r, hash_to_curve(bytes(x), _DST)) for r, x in zip(blinds, xs, strict=True)]
    return [r.to_bytes(SCALAR_BYTES, "big") for r in blinds], _pack(out)


def evaluate_chunk(args: tuple[bytes, U8]) -> U8:
    """Server: ``[k]B`` for each received element, each decoded onto the curve first."""
    key, blinded = args
    k = SM2.scalar_from_bytes(key)
    out = []
    for i, row in enumerate(_rows(blinded)):
        try:
            out.append(SM2.scalarmult(k, row))
        except CryptoError as exc:
            raise CryptoError("received an invalid group element", index=i) from exc
    return _pack(out)


def evaluate_direct_chunk(args: tuple[bytes, Sequence[bytes]]) -> list[bytes]:
    """Server: ``F(k, x)`` on its own inputs, no blinding: ``args = (k, xs)``."""
    key, xs = args
    k = SM2.scalar_from_bytes(key)
    return [finalize(bytes(x), SM2.scalarmult(k, hash_to_curve(bytes(x), _DST))) for x in xs]


def unblind_chunk(args: tuple[Sequence[bytes], U8, Sequence[bytes]]) -> list[bytes]:
    """Client: unblind and finalize: ``args = (inputs, evaluated, blinds)``."""
    xs, evaluated, blinds = args
    out = []
    for i, row in enumerate(_rows(evaluated)):
        r_inv = pow(int.from_bytes(blinds[i], "big"), -1, SM2.n)
        try:
            out.append(finalize(bytes(xs[i]), SM2.scalarmult(r_inv, row)))
        except CryptoError as exc:
            raise CryptoError("received an invalid group element", index=i) from exc
    return out
