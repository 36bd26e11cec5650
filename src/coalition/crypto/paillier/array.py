"""``EncryptedArray``: an n-d array of Paillier ciphertexts under one public key.

Homomorphisms used (Paillier, EUROCRYPT 1999): ``[[a]]·[[b]] = [[a+b]]``, ``[[a]]^k = [[k a]]``.
Values are fixed point (:mod:`~coalition.crypto.paillier.encoding`): every array has a
``scale_bits``; adding arrays of different scales first lifts the lower one by ``2^diff``;
multiplying by a float encodes it with ``precision`` bits (default 24) and adds that to the
scale; multiplying by integers is exact and keeps the scale.

Masking contract: ``is_masked`` means every ciphertext carries a secret random ``hs^a`` factor,
so only the key holder can read it. Results computed from masked arrays stay masked — where an
operation would produce the trivial ciphertext ``1`` (a product by 0, an empty group) a fresh
encryption of 0 is substituted. The codec refuses unmasked arrays. Circuit privacy is *not*
automatic: before a result computed from your private data goes to the key holder, call
:meth:`EncryptedArray.rerandomize` with ``uniform=True`` (otherwise its randomness can reveal
the multipliers: the key holder can take discrete logs in small subgroups of ``Z*_p``, so a
DJN ``hs^a`` factor hides a history from it only when it knows none of the randomness that
went in).

The class has no ``decrypt``: only :class:`~coalition.crypto.paillier.PaillierPrivateKey` can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gmpy2 import mpz

from coalition.core import Executor
from coalition.crypto.paillier.additive import AdditiveArray, ObjArray, concatenate
from coalition.crypto.paillier.elementwise import plain_ciphertexts
from coalition.crypto.paillier.encoding import check_range
from coalition.crypto.paillier.kernels import MaskTask, mask_chunk
from coalition.crypto.paillier.pool import remask

if TYPE_CHECKING:
    from coalition.crypto.paillier.keys import PaillierPublicKey

__all__ = ["EncryptedArray", "concatenate"]


class EncryptedArray(AdditiveArray["PaillierPublicKey"]):
    """Paillier ciphertexts (mod ``n²``) with numpy-like shape, indexing and arithmetic with
    plaintext operands (the operations: :class:`~.additive.AdditiveArray`)."""

    __slots__ = ()
    _scheme = "Paillier"

    @classmethod
    def modulus_of(cls, public_key: PaillierPublicKey) -> mpz:
        """``n²``: Paillier ciphertexts live mod ``n²``."""
        return public_key.nsquare

    def _plain(self, ints: ObjArray) -> ObjArray:
        check_range(ints, int(self._pk.n))
        return plain_ciphertexts(ints, self._pk.n, self._pk.nsquare)

    def _fresh_zeros(self, count: int) -> list[mpz]:
        return mask_chunk(MaskTask(int(self._pk.n), int(self._pk.hs), [1] * count))

    def _remask(self, flat: list[mpz], uniform: bool, executor: Executor | None) -> list[mpz]:
        """Default: a DJN ``hs^a`` (fixed-base table, fast), which hides from everyone but the
        key holder. ``uniform=True``: ``r^n`` for a uniform ``r`` in ``Z*_n`` (one full
        ``powmod`` each, ≈ 10× dearer), a uniformly random encryption of the same plaintext
        even to the key holder — use it for anything computed from your private data that the
        key holder will decrypt (statistical circuit privacy)."""
        return remask(self._pk, flat, uniform=uniform, executor=executor)
