"""Crypto suites: which group, hash, KDF and AEAD a federation's protocols use.

* ``standard`` — today's primitives: Curve25519's prime-order group (X25519, edwards25519
  hash-to-group with SHA-512), SHA-256, HKDF-SHA-256, AES-GCM, Ed25519 signatures;
* ``sm`` — the Chinese national algorithms (国密): the SM2 curve (GB/T 32918) for ECDH and
  signatures, SM3 (GB/T 32905) for hashing, HKDF and hash-to-curve (``SM2_XMD:SM3_SSWU_RO_``),
  SM4-GCM (GB/T 32907, RFC 8998) for payload encryption.

A suite is chosen per federation and recorded with each job; protocols ask it for their
primitives (:func:`primitives`) instead of importing them, and announce its name in their
handshake, so two parties on different suites never run a protocol together. Sources for every
primitive: ``docs/security.md``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.core.context import Executor
from coalition.core.errors import ConfigError
from coalition.crypto import ecdh
from coalition.crypto import group as ed_group
from coalition.crypto.sm import commutative as sm_ecdh
from coalition.crypto.sm import group as sm_group
from coalition.crypto.sm.sm3 import hkdf_sm3, hmac_sm3, sm3
from coalition.crypto.sm.sm4 import Sm4Gcm

__all__ = ["Aead", "CommutativeCipher", "CryptoSuite", "PrimeGroup", "SuitePrimitives",
           "digest_alg", "hexdigest", "mac", "primitives"]

U8 = npt.NDArray[np.uint8]


class CryptoSuite(StrEnum):
    """The suite names a federation and a job record carry."""

    STANDARD = "standard"
    SM = "sm"


class CommutativeCipher(Protocol):
    """One party's secret key of ECDH-PSI: ``E_a(E_b(x)) = E_b(E_a(x))``."""

    def encrypt(self, values: U8, executor: Executor | None = None) -> U8:
        """Validate a peer's values as group elements, then apply the key."""
        ...

    def hash_encrypt(self, ids: Sequence[bytes], *, executor: Executor | None = None) -> U8:
        """Hash our own IDs into the group and apply the key."""
        ...


class Aead(Protocol):
    """The ``cryptography`` AEAD shape: ``encrypt``/``decrypt(nonce, data, associated_data)``."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """``ciphertext || tag``."""
        ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """The plaintext, or an error if authentication fails."""
        ...


class PrimeGroup(Protocol):
    """A prime-order group with byte-encoded elements and scalars: the API of
    :mod:`coalition.crypto.group` (edwards25519) and :mod:`coalition.crypto.sm.group` (SM2),
    both of which satisfy it as modules. Every function taking a peer element validates it;
    the ``*_chunk`` functions are module-level, so ``executor.map`` can ship them."""

    POINT_BYTES: int
    SCALAR_BYTES: int

    def random_scalar(self) -> bytes:
        """A uniformly random non-zero scalar."""
        ...

    def scalar_from_bytes(self, data: bytes) -> bytes:
        """Validate a stored or received scalar and return it."""
        ...

    def scalar_invert(self, s: bytes) -> bytes:
        """``s^-1`` modulo the group order."""
        ...

    def is_valid_point(self, p: bytes) -> bool:
        """Whether ``p`` encodes a group element other than the identity."""
        ...

    def scalarmult(self, s: bytes, p: bytes) -> bytes:
        """``[s]p`` (:class:`CryptoError` for an invalid ``p``)."""
        ...

    def scalarmult_base(self, s: bytes) -> bytes:
        """``[s]G``."""
        ...

    def add(self, p: bytes, q: bytes) -> bytes:
        """``p + q``."""
        ...

    def sub(self, p: bytes, q: bytes) -> bytes:
        """``p - q``."""
        ...

    def hash_to_group(self, msg: bytes, dst: bytes) -> bytes:
        """A random-oracle hash of ``msg`` into the group under the tag ``dst``."""
        ...

    def as_points(self, points: U8 | Sequence[bytes]) -> U8:
        """An ``(n, POINT_BYTES)`` uint8 array of the points."""
        ...

    def validate_points(self, points: U8) -> None:
        """:class:`CryptoError` unless every row is a group element other than the identity."""
        ...

    def scalarmult_chunk(self, args: tuple[bytes, U8]) -> U8:
        """``[s]p`` for each row: ``args = (s, points)``."""
        ...

    def hash_to_group_chunk(self, args: tuple[Sequence[bytes], bytes]) -> U8:
        """:meth:`hash_to_group` for each message: ``args = (messages, dst)``."""
        ...

    def scalarmult_batch(self, s: bytes, points: U8 | Sequence[bytes],
                         executor: Executor | None = None) -> U8:
        """``[s]p`` for every point, spread over ``executor``."""
        ...


@dataclass(frozen=True)
class SuitePrimitives:
    """The primitives of one suite."""

    name: CryptoSuite
    ecdh_suite: str
    """Group/hash/encoding name announced in the ECDH-PSI hello."""
    value_bytes: int
    new_commutative_key: Callable[[], CommutativeCipher]
    validate_values: Callable[..., U8]
    hash: Callable[[bytes], bytes]
    kdf: Callable[..., bytes]
    """``kdf(secret, length=..., info=...)``: HKDF with the suite's hash."""
    aead: Callable[[bytes], Aead]
    """``aead(key)`` for a 16-byte key (AES-128-GCM or SM4-GCM)."""
    group: PrimeGroup
    """The prime-order group of OT, OPRF and PIR (edwards25519's subgroup, or SM2)."""
    block_cipher: str
    """The 128-bit block cipher of OT extension, pads and PRGs (``aes`` or ``sm4``;
    :mod:`coalition.crypto.symmetric`)."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _hkdf_sha256(secret: bytes, *, length: int, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def _sm3(data: bytes) -> bytes:
    return sm3(data)


_SUITES = {
    CryptoSuite.STANDARD: SuitePrimitives(
        name=CryptoSuite.STANDARD,
        ecdh_suite=ecdh.SUITE,
        value_bytes=ecdh.VALUE_BYTES,
        new_commutative_key=ecdh.CommutativeKey.generate,
        validate_values=ecdh.validate_values,
        hash=_sha256,
        kdf=_hkdf_sha256,
        aead=AESGCM,
        group=ed_group,
        block_cipher="aes",
    ),
    CryptoSuite.SM: SuitePrimitives(
        name=CryptoSuite.SM,
        ecdh_suite=sm_ecdh.SUITE,
        value_bytes=sm_ecdh.VALUE_BYTES,
        new_commutative_key=sm_ecdh.Sm2CommutativeKey.generate,
        validate_values=sm_ecdh.validate_values,
        hash=_sm3,
        kdf=hkdf_sm3,
        aead=Sm4Gcm,
        group=sm_group,
        block_cipher="sm4",
    ),
}


def primitives(suite: CryptoSuite | str = CryptoSuite.STANDARD) -> SuitePrimitives:
    """The primitives of ``suite``; :class:`ConfigError` for an unknown name."""
    try:
        return _SUITES[CryptoSuite(suite)]
    except ValueError as exc:
        raise ConfigError("unknown crypto suite", suite=str(suite)) from exc


def digest_alg(suite: CryptoSuite | str = CryptoSuite.STANDARD) -> str:
    """The name a stored digest records for the suite's hash: ``sha256``, or ``sm3`` under
    ``sm``. Records of digests keep their ``*_sha256`` field names and add ``"digest_alg":
    "sm3"`` only under ``sm``, so ``standard`` records keep their exact bytes (the model
    library's convention)."""
    return "sm3" if CryptoSuite(suite) == CryptoSuite.SM else "sha256"


def mac(key: bytes, message: bytes, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> bytes:
    """HMAC with the suite's hash (RFC 2104): HMAC-SHA-256, or HMAC-SM3 under ``sm``."""
    if CryptoSuite(suite) == CryptoSuite.SM:
        return hmac_sm3(key, message)
    return hmac.digest(key, message, "sha256")


def hexdigest(data: bytes, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> str:
    """The suite's hash of ``data`` (SHA-256, or SM3 under ``sm``) in lowercase hex."""
    return primitives(suite).hash(data).hex()
