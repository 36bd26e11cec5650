"""Mask expansion: ChaCha20 (RFC 8439, via OpenSSL in ``cryptography``) keystream as a PRG.

The keystream of a 32-byte seed under a fixed nonce is read as little-endian uint64 words and
reduced modulo 2^k. Every seed is used for exactly one mask, so the fixed nonce is safe.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from numpy.typing import NDArray

from coalition.core import CryptoError

__all__ = ["expand"]

_NONCE = bytes(16)  # 4-byte counter + 12-byte nonce, both zero


def expand(seed: bytes, length: int, modulus_bits: int) -> NDArray[np.uint64]:
    """``length`` pseudo-random integers in ``[0, 2**modulus_bits)`` from ``seed``."""
    if len(seed) != 32:
        raise CryptoError("PRG seed must be 32 bytes", length=len(seed))
    enc = Cipher(algorithms.ChaCha20(seed, _NONCE), mode=None).encryptor()
    # Little-endian on every platform, so all parties expand a seed to the same integers.
    words = np.frombuffer(enc.update(bytes(8 * length)), dtype="<u8").astype(np.uint64, copy=False)
    if modulus_bits < 64:
        return np.bitwise_and(words, np.uint64((1 << modulus_bits) - 1))
    return words
