"""Fixed-point packing of (gradient, hessian) pairs and of several sums per plaintext.

One row is one plaintext ``gi * 2**h_bits + hi`` (signed; Paillier or OU, see
:mod:`coalition.crypto.he`), where
``gi = round(g * 2**P / max|g|)`` and ``hi = round(h * 2**P / max h)``; so one encryption
per row carries both. Homomorphic addition of rows adds both fields without carries because
the widths are derived from the row count N, the precision P and the value ranges:

* ``h_bits = bitlen(N * 2**P)``  (hessians are non-negative, a sum of N stays below it);
* ``g_bits = bitlen(N * 2**P) + 1``  (one sign bit);
* a sum over any subset is a *signed slot* of ``slot_bits = g_bits + h_bits`` bits.

Hosts then pack ``slots`` sums into one ciphertext (``c_0 * c_1**(2**w) * ...``, Horner), so
the guest decrypts one ciphertext per ``slots`` candidates (``decrypt_signed_int``: centred);
slots are read back from the low end with centred remainders, which is why signed slots need no
offset. ``slots`` is checked against the key: ``slot_bits * slots <= capacity_bits``
(:func:`coalition.crypto.he.packing_bits`: ``bitlen(n) - 2`` for Paillier, ``|p| - 2`` for OU)
keeps the packed value inside the centred plaintext range. Packing in this form follows Cheng et al. (SecureBoost, IEEE IS 2021) and
the cipher-compression of SecureBoost+ (Chen et al., arXiv:2110.10927).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coalition.core import EncodingOverflowError, InputError, ProtocolError

__all__ = ["GHPacker"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class GHPacker:
    """Encoding of one tree's (g, h); the guest keeps the scales, hosts see only widths."""

    capacity_bits: int
    h_bits: int
    g_bits: int
    g_scale: float
    h_scale: float

    @property
    def slot_bits(self) -> int:
        """Width of one packed (G, H) sum."""
        return self.g_bits + self.h_bits

    @property
    def slots(self) -> int:
        """Sums per ciphertext that fit the key."""
        return self.capacity_bits // self.slot_bits

    @staticmethod
    def sum_bits(rows: int, precision_bits: int) -> int:
        """Width of the hessian field for ``rows`` rows at ``precision_bits``."""
        return (rows << precision_bits).bit_length()

    @classmethod
    def layout(cls, rows: int, precision_bits: int, capacity_bits: int) -> tuple[int, int]:
        """``(slot_bits, slots)`` an honest guest announces for ``rows`` sampled rows: what a
        host holds it to, so a guest cannot widen the slots it reads (a hostile guest's
        packed "gradients" ``2^r`` would then show which rows each candidate sums;
        ``tests/security/test_secureboost_gradient_packing.py``)."""
        h_bits = cls.sum_bits(rows, precision_bits)
        slot_bits = 2 * h_bits + 1
        return slot_bits, capacity_bits // slot_bits

    @classmethod
    def fit(cls, g: FloatArray, h: FloatArray, *, capacity_bits: int,
            precision_bits: int) -> GHPacker:
        """Widths for ``len(g)`` rows; raises if even one slot does not fit the key."""
        if g.shape != h.shape or g.ndim != 1 or g.size == 0:
            raise InputError("g and h must be equal, non-empty 1-D arrays")
        if not (np.isfinite(g).all() and np.isfinite(h).all()) or (h < 0).any():
            raise InputError("gradients must be finite and hessians non-negative")
        top = 1 << precision_bits
        gmax, hmax = float(np.abs(g).max()), float(h.max())
        sum_bound = cls.sum_bits(g.size, precision_bits)
        packer = cls(capacity_bits=capacity_bits, h_bits=sum_bound, g_bits=sum_bound + 1,
                     g_scale=top / gmax if gmax > 0 else 1.0,
                     h_scale=top / hmax if hmax > 0 else 1.0)
        if packer.slots < 1:
            raise EncodingOverflowError("packed (g, h) does not fit the key's plaintext space",
                                        slot_bits=packer.slot_bits, capacity_bits=capacity_bits)
        return packer

    def encode_rows(self, g: FloatArray, h: FloatArray) -> list[int]:
        """One signed plaintext per row, ``|m| < 2**(slot_bits - 1)``."""
        gi = np.rint(g * self.g_scale).astype(np.int64)
        hi = np.rint(h * self.h_scale).astype(np.int64)
        shift = 1 << self.h_bits
        return [int(a) * shift + int(b) for a, b in zip(gi, hi, strict=True)]

    def decode_packed(self, values: Any, count: int) -> tuple[FloatArray, FloatArray]:
        """(G, H) of the first ``count`` slots across packed ``values`` read centred.

        An honest packed value is ``Σ_j s_j 2^(w·j)`` with ``|s_j| < 2^(w-1)`` over ``slots``
        slots, so nothing is left once they are read; anything left is a
        :class:`ProtocolError` that ends the job. Under Okamoto–Uchiyama a crafted ``g^x``
        with ``x >= p`` decrypts to ``x mod p`` (a factoring oracle, ``docs/security.md``):
        such a residue fills the high bits, so a hostile host learns one bit per job, never a
        residue.
        """
        w, hb = self.slot_bits, self.h_bits
        wmask, hmask, half_w = (1 << w) - 1, (1 << hb) - 1, 1 << (w - 1)
        gs: list[int] = []
        hs: list[int] = []
        for raw in values:
            v = int(raw)
            for _ in range(self.slots):
                s = v & wmask
                if s >= half_w:
                    s -= 1 << w
                v = (v - s) >> w
                hs.append(s & hmask)
                gs.append((s - (s & hmask)) >> hb)
            if v != 0:
                raise ProtocolError("a packed host sum lies outside its slots")
        if len(gs) < count:
            raise InputError("fewer packed sums than announced", got=len(gs), expected=count)
        G = np.array(gs[:count], dtype=np.float64) / self.g_scale
        H = np.array(hs[:count], dtype=np.float64) / self.h_scale
        return G, H
