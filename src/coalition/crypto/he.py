"""Choosing an additive homomorphic scheme: Paillier or Okamoto–Uchiyama, one surface.

Protocols that only add ciphertexts, multiply them by plaintexts and pack several sums into
one plaintext (SecureBoost, HE-LR) hold keys and arrays through these aliases and never touch
a scheme's internals: the ring a host multiplies in is ``pk.ciphertext_modulus`` (``n²`` for
Paillier, ``n`` for OU), packing is sized by :func:`packing_bits`, and the key holder reads
packed sums with ``decrypt_signed_int``.

* ``paillier`` — Paillier (EUROCRYPT 1999): decisional composite residuosity; plaintexts of
  ``bits(n)`` bits, ciphertexts mod ``n²`` (4096-bit arithmetic at a 2048-bit key).
* ``ou`` — Okamoto–Uchiyama (EUROCRYPT 1998), HEU's fast default: factoring ``n = p²q``
  (p-subgroup assumption for semantic security); plaintexts of ``|p| ≈ bits(n)/3`` bits,
  ciphertexts mod ``n`` (2048-bit arithmetic), about 2.5× cheaper per operation here
  (``benchmarks/ou.py``) at a third of the plaintext room.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from coalition.core import Executor
from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto import ou, paillier
from coalition.crypto.paillier.additive import concatenate

__all__ = [
    "HE_SCHEMES",
    "EncryptedArray",
    "HEScheme",
    "PrivateKey",
    "PublicKey",
    "array_type",
    "concatenate",
    "decrypt",
    "decrypt_int",
    "from_ciphertexts",
    "generate_keypair",
    "is_public_key",
    "packing_bits",
    "scheme_of",
]

HEScheme: TypeAlias = Literal["paillier", "ou"]
HE_SCHEMES: tuple[HEScheme, ...] = ("paillier", "ou")
PublicKey: TypeAlias = paillier.PaillierPublicKey | ou.OUPublicKey
PrivateKey: TypeAlias = paillier.PaillierPrivateKey | ou.OUPrivateKey
EncryptedArray: TypeAlias = paillier.EncryptedArray | ou.EncryptedArray


def generate_keypair(scheme: HEScheme, bits: int, *,
                     allow_insecure: bool = False) -> tuple[PublicKey, PrivateKey]:
    """A fresh key pair of ``scheme`` with a ``bits``-bit modulus (``n`` for both schemes)."""
    if scheme == "paillier":
        return paillier.generate_keypair(bits, allow_insecure=allow_insecure)
    if scheme == "ou":
        return ou.generate_keypair(bits, allow_insecure=allow_insecure)
    raise ConfigError("unknown homomorphic scheme", scheme=str(scheme), allowed=HE_SCHEMES)


def is_public_key(obj: Any, scheme: HEScheme | None = None) -> bool:
    """Whether ``obj`` is a public key (of ``scheme`` when given): for checking a peer's key."""
    if scheme is None:
        return isinstance(obj, paillier.PaillierPublicKey | ou.OUPublicKey)
    return isinstance(obj, ou.OUPublicKey if scheme == "ou" else paillier.PaillierPublicKey)


def scheme_of(pk: PublicKey) -> HEScheme:
    """The scheme a public key belongs to."""
    return "ou" if isinstance(pk, ou.OUPublicKey) else "paillier"


def array_type(pk: PublicKey) -> type[paillier.EncryptedArray] | type[ou.EncryptedArray]:
    """The ``EncryptedArray`` class that holds ciphertexts under ``pk``."""
    return ou.EncryptedArray if isinstance(pk, ou.OUPublicKey) else paillier.EncryptedArray


def from_ciphertexts(pk: PublicKey, cts: Any, scale_bits: int = 0, *,
                     masked: bool) -> EncryptedArray:
    """An ``EncryptedArray`` of ``pk``'s scheme over raw ciphertexts ``cts`` (object array)."""
    if isinstance(pk, ou.OUPublicKey):
        return ou.EncryptedArray(pk, cts, scale_bits, masked)
    return paillier.EncryptedArray(pk, cts, scale_bits, masked)


def packing_bits(pk: PublicKey) -> int:
    """Bits a packed *signed* plaintext may use so ``decrypt_signed_int`` reads it exactly.

    A packed value ``v`` with ``|v| < 2^(packing_bits - 1)`` lies inside the centred range of
    either scheme (``(-n/2, n/2)`` for Paillier, ``(-p/2, p/2)`` for OU, ``p ≥ 2^plaintext_bits``).
    """
    return pk.plaintext_bits - 1


def decrypt(sk: PrivateKey, enc: EncryptedArray, *,
            executor: Executor | None = None) -> npt.NDArray[np.float64]:
    """``sk.decrypt(enc)`` for either scheme; :class:`CryptoError` on a scheme mismatch."""
    if isinstance(sk, ou.OUPrivateKey) and isinstance(enc, ou.EncryptedArray):
        return sk.decrypt(enc, executor=executor)
    if isinstance(sk, paillier.PaillierPrivateKey) and isinstance(enc, paillier.EncryptedArray):
        return sk.decrypt(enc, executor=executor)
    raise CryptoError("ciphertexts were made under another scheme")


def decrypt_int(sk: PrivateKey, enc: EncryptedArray, *,
                executor: Executor | None = None) -> npt.NDArray[np.object_]:
    """``sk.decrypt_int(enc)`` (raw plaintexts) for either scheme."""
    if isinstance(sk, ou.OUPrivateKey) and isinstance(enc, ou.EncryptedArray):
        return sk.decrypt_int(enc, executor=executor)
    if isinstance(sk, paillier.PaillierPrivateKey) and isinstance(enc, paillier.EncryptedArray):
        return sk.decrypt_int(enc, executor=executor)
    raise CryptoError("ciphertexts were made under another scheme")
