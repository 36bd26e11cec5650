"""``EncryptedArray`` for Okamoto–Uchiyama: an n-d array of ciphertexts mod ``n = p²q``.

The same API as :class:`coalition.crypto.paillier.EncryptedArray`, so a protocol can hold
either: indexing, ``ravel``/``reshape``, ``+``/``-`` with arrays and plaintexts, ``mul`` by
plaintexts, ``sum``, ``group_sum``, ``xt_dot``, ``rerandomize`` and :func:`concatenate`.

Homomorphisms (Okamoto & Uchiyama, EUROCRYPT 1998): ``E(a)·E(b) = E(a+b)``,
``E(a)^k = E(k a)``, ``E(a)^-1 = E(-a)``, all mod ``n`` — half the width of Paillier's
``n²`` at equal ``n``. Plaintexts live in ``Z_p``: signed fixed-point values with
``|m| < p/3`` (see :class:`~coalition.crypto.ou.keys.OUPrivateKey.decrypt`); a result outside
that range decrypts to :class:`~coalition.core.errors.EncodingOverflowError`, never to a wrong
number silently. Scales behave exactly as Paillier's (``encoding``): adding arrays lifts the
lower scale, float multipliers add ``precision`` bits, integer multipliers are exact.

Masking contract as Paillier's: ``is_masked`` means every ciphertext carries a secret
``h^r``; results from masked arrays stay masked (an empty product becomes a fresh ``E(0)``);
the codec refuses unmasked arrays. ``r`` is uniform modulo ``ord(h)`` (:mod:`.kernels`), so a mask is
uniform even to the key holder and ``rerandomize()`` gives circuit privacy with or without
``uniform=True``.

The class has no ``decrypt``: only :class:`~coalition.crypto.ou.keys.OUPrivateKey` can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gmpy2 import mpz

from coalition.core import Executor
from coalition.core.errors import EncodingOverflowError
from coalition.crypto.ou.kernels import EncryptTask, MaskTask, encrypt_chunk, mask_chunk
from coalition.crypto.paillier.additive import AdditiveArray, ObjArray, concatenate
from coalition.crypto.paillier.dispatch import chunked_map
from coalition.crypto.paillier.elementwise import objects

if TYPE_CHECKING:
    from coalition.crypto.ou.keys import OUPublicKey

__all__ = ["EncryptedArray", "concatenate", "plain_ciphertexts"]


def plain_ciphertexts(pk: OUPublicKey, ints: ObjArray) -> ObjArray:
    """The unmasked ``g^m mod n`` for signed plaintexts ``ints`` (``|m| < signed_limit``)."""
    flat = [int(m) for m in ints.ravel().tolist()]
    if flat and max(abs(m) for m in flat) >= pk.signed_limit:
        raise EncodingOverflowError("value too large for the key's plaintext range",
                                    limit_bits=pk.signed_limit.bit_length())
    cs = encrypt_chunk(EncryptTask(int(pk.n), int(pk.g), int(pk.h), flat, False))
    return objects(cs, ints.shape)  # g^-|m| from the kernels' table of g^-1


class EncryptedArray(AdditiveArray["OUPublicKey"]):
    """Okamoto–Uchiyama ciphertexts (mod ``n``) with the Paillier array's shape, indexing and
    arithmetic (the operations: :class:`~coalition.crypto.paillier.additive.AdditiveArray`)."""

    __slots__ = ()
    _scheme = "Okamoto-Uchiyama"
    _repr_name = "ou.EncryptedArray"

    @classmethod
    def modulus_of(cls, public_key: OUPublicKey) -> mpz:
        """``n = p²q``: OU ciphertexts live mod ``n``."""
        return public_key.n

    def _plain(self, ints: ObjArray) -> ObjArray:
        return plain_ciphertexts(self._pk, ints)

    def _fresh_zeros(self, count: int) -> list[mpz]:
        return mask_chunk(MaskTask(int(self._pk.n), int(self._pk.h), [1] * count))

    def _remask(self, flat: list[mpz], uniform: bool, executor: Executor | None) -> list[mpz]:
        """Each ciphertext times a fresh uniform ``h^r``: ``uniform`` is accepted for API parity
        with Paillier, since every OU mask is uniform mod ``ord(h)`` (module docstring)."""
        n, h = int(self._pk.n), int(self._pk.h)
        return chunked_map(mask_chunk, lambda part: MaskTask(n, h, part), flat, executor)
