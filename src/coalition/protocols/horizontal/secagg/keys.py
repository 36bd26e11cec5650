"""Key agreement and share encryption for SecAgg, in the federation's crypto suite.

``standard``: X25519 (RFC 7748) shared secrets are turned into independent 32-byte keys with
HKDF-SHA256 (RFC 5869), bound to a context string (round namespace and purpose). Shares travel
through the server encrypted with ChaCha20-Poly1305 (RFC 8439) under the agreed key, with sender
and recipient as associated data, so the server can neither read nor re-address them.

``sm`` (:mod:`coalition.crypto.suite`): Diffie-Hellman in the SM2 group (GB/T 32918; public
keys are 33-byte compressed points, checked on arrival; the secret is the ``x``-coordinate of
``[d_a]P_b``), HKDF-SM3, and SM4-GCM (RFC 8998) with the first 16 bytes of the derived key.
This is plain ephemeral-static ECDH, not the authenticated key exchange of GB/T 32918.3: the
parties' identities are bound by the job's mTLS channels and by the associated data.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from coalition.core import CryptoError
from coalition.crypto.sm.curve import SM2
from coalition.crypto.sm.sm3 import hkdf_sm3
from coalition.crypto.sm.sm4 import KEY_BYTES as SM4_KEY_BYTES
from coalition.crypto.sm.sm4 import Sm4Gcm
from coalition.crypto.suite import CryptoSuite

__all__ = ["KeyPair", "agree", "derive", "open_share", "public_key_bytes", "seal_share"]

Suite = CryptoSuite | str


def _is_sm(suite: Suite) -> bool:
    return CryptoSuite(suite) == CryptoSuite.SM


def public_key_bytes(suite: Suite = CryptoSuite.STANDARD) -> int:
    """Length of a public key on the wire: 32 (X25519) or 33 (compressed SM2)."""
    return 33 if _is_sm(suite) else 32


class KeyPair:
    """A key pair of the suite's group whose private half can be exported as an integer for
    Shamir sharing."""

    def __init__(self, private: X25519PrivateKey | None = None,
                 suite: Suite = CryptoSuite.STANDARD) -> None:
        self.suite = CryptoSuite(suite)
        self._sk: X25519PrivateKey | None = None
        self._d = 0
        if _is_sm(self.suite):
            if private is not None:
                raise CryptoError("an X25519 key is not an SM2 key")
            self._d = SM2.random_scalar()
            self.public = SM2.scalarmult_base(self._d)
        else:
            self._sk = private or X25519PrivateKey.generate()
            self.public = self._sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def from_int(cls, value: int, suite: Suite = CryptoSuite.STANDARD) -> KeyPair:
        """Rebuild from :meth:`to_int` (after Shamir reconstruction)."""
        if _is_sm(suite):
            if not 0 < value < SM2.n:
                raise CryptoError("reconstructed value is not an SM2 private key")
            pair = cls(suite=suite)
            pair._d, pair.public = value, SM2.scalarmult_base(value)
            return pair
        try:
            return cls(X25519PrivateKey.from_private_bytes(value.to_bytes(32, "big")))
        except (OverflowError, ValueError) as exc:
            raise CryptoError("reconstructed value is not an X25519 private key") from exc

    def to_int(self) -> int:
        """The raw private key as an integer (for Shamir sharing only)."""
        if self._sk is None:
            return self._d
        raw = self._sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return int.from_bytes(raw, "big")

    def agree(self, peer_public: bytes, context: bytes) -> bytes:
        """A 32-byte key shared with the owner of ``peer_public`` for ``context``."""
        if self._sk is not None:
            return agree(self._sk, peer_public, context)
        if not isinstance(peer_public, bytes) or len(peer_public) != 33:
            raise CryptoError("invalid SM2 public key")
        try:
            secret = SM2.scalarmult(self._d, peer_public)[1:]
        except CryptoError as exc:
            raise CryptoError("invalid SM2 public key") from exc
        return derive(secret, context, self.suite)


def agree(private: X25519PrivateKey, peer_public: bytes, context: bytes) -> bytes:
    """HKDF-SHA256(X25519(private, peer_public), info=context)."""
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as exc:  # wrong length or a low-order point (all-zero secret)
        raise CryptoError("invalid X25519 public key") from exc
    return derive(secret, context)


def derive(secret: bytes, context: bytes, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """HKDF-SHA256 (or HKDF-SM3 under ``sm``) of ``secret`` for ``context`` (32 bytes)."""
    if _is_sm(suite):
        return hkdf_sm3(secret, length=32, info=context)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(secret)


def seal_share(key: bytes, plaintext: bytes, aad: bytes,
               suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """``nonce ‖ AEAD(key, nonce, plaintext, aad)`` with a random nonce: ChaCha20-Poly1305, or
    SM4-GCM under ``sm``."""
    nonce = os.urandom(12)
    if _is_sm(suite):
        return nonce + Sm4Gcm(key[:SM4_KEY_BYTES]).encrypt(nonce, plaintext, aad)
    return nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def open_share(key: bytes, sealed: bytes, aad: bytes,
               suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """Decrypt :func:`seal_share` output; :class:`CryptoError` if tampered with."""
    if not isinstance(sealed, bytes) or len(sealed) < 12 + 16:
        raise CryptoError("sealed share is too short")
    if _is_sm(suite):
        return Sm4Gcm(key[:SM4_KEY_BYTES]).decrypt(sealed[:12], sealed[12:], aad)
    try:
        return ChaCha20Poly1305(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag as exc:
        raise CryptoError("share failed authentication") from exc
