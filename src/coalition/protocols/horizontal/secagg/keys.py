"""Key agreement and share encryption for SecAgg.

X25519 (RFC 7748) shared secrets are turned into independent 32-byte keys with HKDF-SHA256
(RFC 5869), bound to a context string (round namespace and purpose). Shares travel through the
server encrypted with ChaCha20-Poly1305 (RFC 8439) under the agreed key, with sender and
recipient as associated data, so the server can neither read nor re-address them.
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

__all__ = ["KeyPair", "agree", "derive", "open_share", "seal_share"]


class KeyPair:
    """An X25519 key pair whose private half can be exported as an integer for Shamir sharing."""

    def __init__(self, private: X25519PrivateKey | None = None) -> None:
        self._sk = private or X25519PrivateKey.generate()
        self.public = self._sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def from_int(cls, value: int) -> KeyPair:
        """Rebuild from :meth:`to_int` (after Shamir reconstruction)."""
        try:
            return cls(X25519PrivateKey.from_private_bytes(value.to_bytes(32, "big")))
        except (OverflowError, ValueError) as exc:
            raise CryptoError("reconstructed value is not an X25519 private key") from exc

    def to_int(self) -> int:
        """The raw private key as an integer (for Shamir sharing only)."""
        raw = self._sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return int.from_bytes(raw, "big")

    def agree(self, peer_public: bytes, context: bytes) -> bytes:
        """A 32-byte key shared with the owner of ``peer_public`` for ``context``."""
        return agree(self._sk, peer_public, context)


def agree(private: X25519PrivateKey, peer_public: bytes, context: bytes) -> bytes:
    """HKDF-SHA256(X25519(private, peer_public), info=context)."""
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as exc:  # wrong length or a low-order point (all-zero secret)
        raise CryptoError("invalid X25519 public key") from exc
    return derive(secret, context)


def derive(secret: bytes, context: bytes) -> bytes:
    """HKDF-SHA256 of ``secret`` for ``context`` (32 bytes)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(secret)


def seal_share(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``nonce ‖ ChaCha20-Poly1305(key, nonce, plaintext, aad)`` with a random nonce."""
    nonce = os.urandom(12)
    return nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def open_share(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt :func:`seal_share` output; :class:`CryptoError` if tampered with."""
    if not isinstance(sealed, bytes) or len(sealed) < 12 + 16:
        raise CryptoError("sealed share is too short")
    try:
        return ChaCha20Poly1305(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag as exc:
        raise CryptoError("share failed authentication") from exc
