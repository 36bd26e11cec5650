"""Additive masking of encrypted gradients before they reach the key holder, packed.

An owner holding ``[[g]]`` (``F`` values, fixed point at ``scale_bits = s``) packs them into
``ceil(F / S)`` ciphertexts of ``S`` slots of ``SLOT = s + GRADIENT_BITS + STAT_BITS + 2``
bits each (``[[Σ_j v_j 2^(SLOT·j)]] = Π_j [[v_j]]^(2^(SLOT·j))``, Horner with ``SLOT``
squarings per value), where ``v_j = g_j·2^s + M_j`` and the mask ``M_j`` is drawn uniformly from
``[2^(s+GRADIENT_BITS), 2^(s+GRADIENT_BITS) + 2^(s+GRADIENT_BITS+STAT_BITS))``, so every slot is
positive and below ``2^(SLOT-1)``: slots never carry into each other. The key holder decrypts
``v_j``, statistically independent of ``g_j`` (distance ≤ 2^-40 while ``|g_j| < 2^32``); the owner
subtracts ``M_j`` and refuses any slot outside that bound (:class:`EncodingOverflowError`).

Circuit privacy: the packed ciphertexts are re-randomised with a *uniform* ``r^n``
(``EncryptedArray.rerandomize(uniform=True)``), so they are uniformly random encryptions of
their plaintexts, independent of how they were computed — even for the key holder, who knows
the factorisation (and, in ``he-arbiter``, dealt the randomness of ``[[k·u_h]]``).

Packing is what makes that affordable: at 2048-bit keys ``S = 14``, so a 20-feature gradient
costs the key holder 2 decryptions instead of 20, and the owner 2 uniform masks. This is the
step FATE 2.x skips for its arbiter.
"""

from __future__ import annotations

import secrets
from typing import Any

import gmpy2
import numpy as np
from gmpy2 import mpz
from numpy.typing import NDArray

from coalition.core.errors import EncodingOverflowError, ProtocolError
from coalition.crypto import he
from coalition.crypto.he import EncryptedArray

__all__ = ["GRADIENT_BITS", "STAT_BITS", "Mask", "decrypt_masked", "mask", "unmask"]

GRADIENT_BITS = 32  # |g| < 2^32: far above any standardised-feature gradient, checked on unmask
STAT_BITS = 40


class Mask:
    """What an owner needs to read the key holder's answer: masks, layout, the bound
    ``n`` every raw plaintext lies below (``2^plaintext_bits``)."""

    def __init__(self, ints: list[int], scale_bits: int, n: int, slot_bits: int,
                 slots: int) -> None:
        self.ints, self.scale_bits, self.n = ints, scale_bits, n
        self.slot_bits, self.slots = slot_bits, slots

    @property
    def packed(self) -> int:
        """Number of packed ciphertexts (and of raw plaintexts expected back)."""
        return -(-len(self.ints) // self.slots)


def layout(scale_bits: int, plaintext_bits: int) -> tuple[int, int]:
    """``(slot_bits, slots per ciphertext)`` for a gradient at ``scale_bits`` under a key whose
    plaintexts are every integer below ``2^plaintext_bits``."""
    slot = scale_bits + GRADIENT_BITS + STAT_BITS + 2
    slots = plaintext_bits // slot  # Σ < 2^(slots·slot) <= 2^plaintext_bits
    if slots < 1:
        raise EncodingOverflowError("key too small for a masked gradient slot", slot_bits=slot)
    return slot, slots


def mask(enc: EncryptedArray, executor: Any = None) -> tuple[EncryptedArray, Mask]:
    """``[[g + M]]`` packed and uniformly re-randomised, and the mask ``M``."""
    if enc.ndim != 1 or enc.size == 0:
        raise ProtocolError("gradient must be a non-empty 1-D encrypted array")
    pk = enc.public_key
    n2, bound = pk.ciphertext_modulus, 1 << pk.plaintext_bits
    slot, slots = layout(enc.scale_bits, pk.plaintext_bits)
    base = 1 << (enc.scale_bits + GRADIENT_BITS)
    ints = [base + secrets.randbits(enc.scale_bits + GRADIENT_BITS + STAT_BITS)
            for _ in range(enc.size)]
    cs = enc.ciphertexts.tolist()
    shift = mpz(1) << slot
    packed, plain = [], []
    for start in range(0, len(cs), slots):
        idx = list(range(start, min(start + slots, len(cs))))
        acc, m = mpz(cs[idx[-1]]), ints[idx[-1]]
        for j in reversed(idx[:-1]):  # Horner: acc·2^SLOT + v_j, in the exponent
            acc = gmpy2.powmod(acc, shift, n2) * cs[j] % n2
            m = (m << slot) + ints[j]
        packed.append(acc)
        plain.append(m)
    body = np.empty(len(packed), dtype=object)
    body[:] = packed
    raw = he.from_ciphertexts(pk, body, masked=True) + pk.encrypt_int(
        np.asarray(plain, dtype=object), rerandomize=False)
    return raw.rerandomize(executor, uniform=True), Mask(ints, enc.scale_bits, bound, slot, slots)


def decrypt_masked(sk: he.PrivateKey, enc: object, executor: Any = None) -> list[int]:
    """Key holder side: raw plaintexts of a masked gradient (meaningless without ``M``).

    Under OU this is a decryption service for ciphertexts a partner chose: a ciphertext of
    ``m >= p`` comes back as ``m mod p`` and factors ``n`` (the scheme's chosen-ciphertext
    weakness; ``tests/security/test_ou_decryption_oracle.py``). The privacy policy therefore
    lets ``he_scheme: ou`` into LR only where every data owner granted ``allow_ou_lr``.
    """
    if not isinstance(enc, he.EncryptedArray) or enc.ndim != 1:
        raise ProtocolError("masked gradient must be a 1-D encrypted array")
    return [int(v) for v in he.decrypt_int(sk, enc, executor=executor).tolist()]


def unmask(raw: object, m: Mask) -> NDArray[np.float64]:
    """Owner side: ``g`` from the key holder's packed ``v = g·2^s + M``."""
    if not isinstance(raw, list) or len(raw) != m.packed \
            or not all(isinstance(v, int) and 0 <= v < m.n for v in raw):
        raise ProtocolError("malformed decrypted gradient")
    bound = 1 << (m.scale_bits + GRADIENT_BITS)
    low = (1 << m.slot_bits) - 1
    out = np.empty(len(m.ints), dtype=np.float64)
    for i, r in enumerate(m.ints):
        x = ((raw[i // m.slots] >> (m.slot_bits * (i % m.slots))) & low) - r
        if not -bound < x < bound:
            raise EncodingOverflowError("masked gradient overflowed its slot")
        out[i] = x / float(1 << m.scale_bits)
    return out
