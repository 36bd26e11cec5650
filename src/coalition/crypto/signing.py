"""Ed25519 signatures (RFC 8032) over libsodium: node keys, model parts, ledger entries.

Key custody is a type: :class:`SigningKey` (secret, can sign) stays with its owner;
:class:`VerifyKey` (public) travels — it is registered with the wire codec under extension code
20, so it can be sent inside any message. Verification failures raise
:class:`~coalition.core.errors.CryptoError`, never return ``False``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import nacl.exceptions
import nacl.signing

from coalition.core import codec
from coalition.core.errors import CodecError, CryptoError

__all__ = ["SIGNATURE_BYTES", "VERIFY_KEY_CODEC_CODE", "SigningKey", "VerifyKey"]

SIGNATURE_BYTES = 64
VERIFY_KEY_CODEC_CODE = 20


class VerifyKey:
    """An Ed25519 public key: verifies signatures; safe to publish."""

    __slots__ = ("_key",)

    def __init__(self, key_bytes: bytes) -> None:
        try:
            self._key = nacl.signing.VerifyKey(bytes(key_bytes))
        except (nacl.exceptions.ValueError, nacl.exceptions.TypeError, TypeError) as exc:
            raise CryptoError("invalid Ed25519 public key") from exc

    def to_bytes(self) -> bytes:
        """The 32-byte public key."""
        return bytes(self._key)

    def fingerprint(self) -> str:
        """Hex SHA-256 of the public key: a short stable name for pinning and logs."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise :class:`CryptoError` unless ``signature`` is this key's signature of ``message``."""
        if len(signature) != SIGNATURE_BYTES:
            raise CryptoError("Ed25519 signature must be 64 bytes", length=len(signature))
        try:
            self._key.verify(bytes(message), bytes(signature))
        except nacl.exceptions.BadSignatureError as exc:
            raise CryptoError("bad signature", key=self.fingerprint()[:16]) from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"VerifyKey({self.fingerprint()[:16]})"


class SigningKey:
    """An Ed25519 secret key. Its owner signs with it; only :attr:`verify_key` leaves."""

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise CryptoError("Ed25519 seed must be 32 bytes", length=len(seed))
        self._key = nacl.signing.SigningKey(bytes(seed))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from libsodium's random generator."""
        return cls(bytes(nacl.signing.SigningKey.generate()))

    def to_seed(self) -> bytes:
        """The 32-byte secret seed, for the owner's key store (never for the wire)."""
        return bytes(self._key)

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(bytes(self._key.verify_key))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of ``message`` (deterministic, RFC 8032)."""
        return bytes(self._key.sign(bytes(message)).signature)

    def __repr__(self) -> str:
        return f"SigningKey(<secret>, {self.verify_key!r})"


def _verify_key_from_wire(value: Any) -> VerifyKey:
    if not isinstance(value, bytes) or len(value) != 32:
        raise CodecError("verify key on the wire must be 32 bytes")
    return VerifyKey(value)


codec.register_extension(VERIFY_KEY_CODEC_CODE, VerifyKey, VerifyKey.to_bytes,
                         _verify_key_from_wire)
