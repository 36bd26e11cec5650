"""Additive masking of encrypted gradients before they reach the key holder.

An owner holding ``[[g]]`` (fixed point at ``scale_bits = s``) adds a fresh integer mask ``M``
drawn uniformly from ``[0, 2^(s + 20 + 40))`` and re-randomises, so the key holder decrypts
``g·2^s + M``, statistically independent of ``g`` (distance ≤ 2^-40 while ``|g| < 2^20``), and
learns nothing about the ciphertext's history (circuit privacy). The owner subtracts ``M``. This
is the step FATE 2.x skips for its arbiter.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import EncodingOverflowError, ProtocolError
from coalition.crypto.paillier import EncryptedArray, PaillierPrivateKey

__all__ = ["GRADIENT_BITS", "STAT_BITS", "Mask", "decrypt_masked", "mask", "unmask"]

GRADIENT_BITS = 20  # |g| < 2^20 for standardised features and bounded residuals
STAT_BITS = 40


class Mask:
    """The integers an owner added; needed to read the key holder's answer."""

    def __init__(self, ints: list[int], scale_bits: int, n: int) -> None:
        self.ints, self.scale_bits, self.n = ints, scale_bits, n


def mask(enc: EncryptedArray, executor: Any = None) -> tuple[EncryptedArray, Mask]:
    """``[[g + M]]``, re-randomised, and the mask ``M``."""
    bits = enc.scale_bits + GRADIENT_BITS + STAT_BITS
    ints = [secrets.randbits(bits) for _ in range(enc.size)]
    pk = enc.public_key
    raw = pk.encrypt_int(np.asarray(ints, dtype=object).reshape(enc.shape), rerandomize=False)
    at_scale = EncryptedArray(pk, raw.ciphertexts, enc.scale_bits, False)
    return (enc + at_scale).rerandomize(executor), Mask(ints, enc.scale_bits, int(pk.n))


def decrypt_masked(sk: PaillierPrivateKey, enc: object, executor: Any = None) -> list[int]:
    """Key holder side: raw plaintexts of a masked gradient (meaningless without ``M``)."""
    if not isinstance(enc, EncryptedArray) or enc.ndim != 1:
        raise ProtocolError("masked gradient must be a 1-D encrypted array")
    return [int(v) for v in sk.decrypt_int(enc, executor=executor).tolist()]


def unmask(raw: object, m: Mask) -> NDArray[np.float64]:
    """Owner side: ``g`` from the key holder's ``g·2^s + M mod n``."""
    if not isinstance(raw, list) or len(raw) != len(m.ints) \
            or not all(isinstance(v, int) for v in raw):
        raise ProtocolError("malformed decrypted gradient")
    third = m.n // 3
    out = np.empty(len(raw), dtype=np.float64)
    for i, (v, r) in enumerate(zip(raw, m.ints, strict=True)):
        x = (v - r) % m.n
        if third < x < m.n - third:
            raise EncodingOverflowError("masked gradient overflowed the plaintext range")
        out[i] = (x - m.n if x >= m.n - third else x) / float(1 << m.scale_bits)
    return out
