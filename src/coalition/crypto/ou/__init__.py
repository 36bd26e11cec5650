"""Okamoto–Uchiyama additively homomorphic encryption over GMP: a second scheme.

Okamoto & Uchiyama, "A new public-key cryptosystem as secure as factoring", EUROCRYPT 1998:
``n = p²q``, ``E(m) = g^m h^r mod n``, plaintexts in ``Z_p``. Ciphertexts are mod ``n``
(Paillier's are mod ``n²``), so at a 2048-bit ``n`` every operation is 2048-bit arithmetic,
and decryption is one ``powmod`` mod ``p²``. The plaintext space is ``|p| ≈ bits(n)/3`` bits
(683 at 2048), against Paillier's ``bits(n)``: packing must size its slots to
``OUPublicKey.plaintext_bits``.

Same API as :mod:`coalition.crypto.paillier` (``generate_keypair``, public key ``encrypt`` /
``encrypt_int``, ``EncryptedArray``, ``concatenate``; private key ``decrypt`` /
``decrypt_int``). Who can do what: anyone holding an :class:`OUPublicKey` (or an
:class:`EncryptedArray`) can encrypt and compute; only :class:`OUPrivateKey` decrypts.
Importing this package registers the public key (codec extension 18) and ``EncryptedArray``
(19) with :mod:`coalition.core.codec`; private keys are never encodable.
"""

from coalition.crypto.ou.array import EncryptedArray, concatenate
from coalition.crypto.ou.keys import DEFAULT_BITS, OUPrivateKey, OUPublicKey, generate_keypair
from coalition.crypto.ou.wire import EXT_ENCRYPTED_ARRAY, EXT_PUBLIC_KEY, register
from coalition.crypto.paillier.encoding import DEFAULT_MUL_PRECISION, DEFAULT_PRECISION
from coalition.crypto.paillier.keys import InsecureKeyWarning

register()

__all__ = [
    "DEFAULT_BITS",
    "DEFAULT_MUL_PRECISION",
    "DEFAULT_PRECISION",
    "EXT_ENCRYPTED_ARRAY",
    "EXT_PUBLIC_KEY",
    "EncryptedArray",
    "InsecureKeyWarning",
    "OUPrivateKey",
    "OUPublicKey",
    "concatenate",
    "generate_keypair",
]
