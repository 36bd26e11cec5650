"""Cryptographic building blocks.

* :mod:`.paillier` — Paillier over GMP (gmpy2): keys, fixed-point encoding, ``EncryptedArray``
  with the bucket multi-exponentiation ``X.T @ [[d]]``;
* :mod:`.ou` — Okamoto–Uchiyama (EUROCRYPT 1998), a second additive scheme with the same
  ``EncryptedArray`` API: ciphertexts mod ``n = p²q``, plaintexts of ``|p|`` bits;
* :mod:`.he` — the scheme-neutral surface (``he_scheme: paillier | ou``) protocols hold;
* :mod:`.group` — the edwards25519 prime-order subgroup via libsodium (PyNaCl): hash-to-group,
  scalars, scalar multiplication;
* :mod:`.ecdh` — the commutative cipher of ECDH-PSI: hash into the prime-order subgroup of
  Curve25519, X25519 scalar multiplication, validation of every peer value;
* :mod:`.oprf` — blinded OPRF in the style of RFC 9497 (either suite's group);
* :mod:`.ot` — Chou–Orlandi base oblivious transfer (either suite's group);
* :mod:`.symmetric` — bulk AES or SM4 (OpenSSL) for OT extension;
* :mod:`.signing` — node signatures: Ed25519, or SM2 under the ``sm`` suite;
* :mod:`.merkle` — RFC 9162 Merkle tree hashes, inclusion and consistency proofs;
* :mod:`.checkpoint` — signed tree heads (C2SP checkpoint body) and witness co-signing.
* :mod:`.sm` — the national algorithms: SM2 (curve over libcrypto, signatures, hash-to-curve,
  commutative cipher, the group API of :mod:`.group`), SM3, SM4-GCM;
* :mod:`.suite` — crypto suites (``standard`` | ``sm``): the primitives a federation's protocols use.

Importing this package registers the Paillier and Okamoto–Uchiyama key and ciphertext types and the (Ed25519 or SM2)
verify key with the wire codec, so any process that decodes messages accepts them.
"""

from coalition.crypto import group, ou, paillier, signing
from coalition.crypto.ecdh import CommutativeKey
from coalition.crypto.oprf import OprfServerKey, blind, unblind_finalize
from coalition.crypto.paillier import (
    DEFAULT_MUL_PRECISION,
    DEFAULT_PRECISION,
    EncryptedArray,
    InsecureKeyWarning,
    PaillierPrivateKey,
    PaillierPublicKey,
    concatenate,
    generate_keypair,
)
from coalition.crypto.signing import SigningKey, VerifyKey

__all__ = [
    "CommutativeKey",
    "OprfServerKey",
    "SigningKey",
    "VerifyKey",
    "blind",
    "group",
    "signing",
    "unblind_finalize",
    "DEFAULT_MUL_PRECISION",
    "DEFAULT_PRECISION",
    "EncryptedArray",
    "InsecureKeyWarning",
    "PaillierPrivateKey",
    "PaillierPublicKey",
    "concatenate",
    "generate_keypair",
    "ou",
    "paillier",
]
