"""Paillier additively homomorphic encryption over GMP, for vertical federated learning.

Paillier (EUROCRYPT 1999) with ``g = n + 1``, Damgård–Jurik–Nielsen fast randomisers
(Int. J. Inf. Secur. 2010) from fixed-base tables, CRT for the key holder, fixed-point
encoding, and bucket (Pippenger 1980) multi-exponentiation for ``X.T @ [[d]]``.

Who can do what: anyone holding a :class:`PaillierPublicKey` (or an :class:`EncryptedArray`)
can encrypt and compute on ciphertexts; only the :class:`PaillierPrivateKey` decrypts.
Importing this package registers the public key (codec extension 16) and ``EncryptedArray``
(17) with :mod:`coalition.core.codec`; private keys are never encodable.
"""

from coalition.crypto.paillier.array import EncryptedArray, concatenate
from coalition.crypto.paillier.encoding import DEFAULT_MUL_PRECISION, DEFAULT_PRECISION
from coalition.crypto.paillier.keys import (
    DEFAULT_BITS,
    InsecureKeyWarning,
    PaillierPrivateKey,
    PaillierPublicKey,
    generate_keypair,
)
from coalition.crypto.paillier.wire import EXT_ENCRYPTED_ARRAY, EXT_PUBLIC_KEY, register

register()

__all__ = [
    "DEFAULT_BITS",
    "DEFAULT_MUL_PRECISION",
    "DEFAULT_PRECISION",
    "EXT_ENCRYPTED_ARRAY",
    "EXT_PUBLIC_KEY",
    "EncryptedArray",
    "InsecureKeyWarning",
    "PaillierPrivateKey",
    "PaillierPublicKey",
    "concatenate",
    "generate_keypair",
]
