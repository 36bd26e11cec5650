"""SM3 (GB/T 32905-2016) and the constructions built on it, through ``cryptography``.

* :func:`sm3` — the 256-bit digest;
* :func:`hmac_sm3` — HMAC (RFC 2104) with SM3;
* :func:`hkdf_sm3` — HKDF (RFC 5869) with SM3, the KDF of the ``sm`` suite;
* :func:`expand_message_xmd_sm3` — RFC 9380 §5.3.1 with ``H = SM3`` (``b_in_bytes = 32``,
  ``s_in_bytes = 64``), the first step of :mod:`.hash_to_curve`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.core.errors import InputError

__all__ = ["DIGEST_BYTES", "expand_message_xmd_sm3", "hkdf_sm3", "hmac_sm3", "sm3"]

DIGEST_BYTES = 32
_BLOCK_BYTES = 64


def sm3(*parts: bytes) -> bytes:
    """SM3 of the concatenation of ``parts``."""
    digest = hashes.Hash(hashes.SM3())
    for part in parts:
        digest.update(part)
    return digest.finalize()


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC-SM3 of ``message`` under ``key`` (32 bytes)."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize()


def hkdf_sm3(secret: bytes, *, length: int, info: bytes, salt: bytes | None = None) -> bytes:
    """HKDF-SM3 (RFC 5869): ``length`` bytes from ``secret``, bound to ``info``."""
    return HKDF(algorithm=hashes.SM3(), length=length, salt=salt, info=info).derive(secret)


def expand_message_xmd_sm3(message: bytes, dst: bytes, length: int) -> bytes:
    """``expand_message_xmd`` of RFC 9380 §5.3.1 with SM3: ``length`` uniform bytes.

    Raises :class:`InputError` when ``dst`` is longer than 255 bytes or ``length`` needs more
    than 255 SM3 blocks (the RFC's limits).
    """
    if len(dst) > 255:
        raise InputError("hash-to-curve domain separation tag longer than 255 bytes")
    blocks = -(-length // DIGEST_BYTES)
    if blocks > 255 or length > 65535 or length <= 0:
        raise InputError("expand_message_xmd output length out of range")
    dst_prime = dst + bytes([len(dst)])
    b0 = sm3(bytes(_BLOCK_BYTES), message, length.to_bytes(2, "big"), b"\x00", dst_prime)
    previous = sm3(b0, b"\x01", dst_prime)
    out = [previous]
    for index in range(2, blocks + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, previous, strict=True))
        previous = sm3(mixed, bytes([index]), dst_prime)
        out.append(previous)
    return b"".join(out)[:length]
