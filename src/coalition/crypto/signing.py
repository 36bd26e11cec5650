"""Node signatures in the federation's crypto suite: node keys, model parts, audit checkpoints,
ledger entries, PIR manifests.

* ``standard``: Ed25519 (RFC 8032) over libsodium; 32-byte public keys;
* ``sm``: SM2 signatures (GB/T 32918.2-2016, :mod:`coalition.crypto.sm.signature`) with the
  default user identity ``1234567812345678`` (GM/T 0009-2012); 33-byte compressed public keys.

Both give 64-byte signatures; the public key's length names its suite, so a key recorded with a
signature (hex in a model part's ``signer``, a codec value on the wire) records the suite too.
A verifier that runs one suite passes it (``verify(..., suite=...)``) and refuses a key of the
other: a federation on ``sm`` never accepts an Ed25519 signature as proof.

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
from coalition.core.errors import CodecError, CryptoError, InputError
from coalition.crypto.sm.signature import Sm2SigningKey, Sm2VerifyKey
from coalition.crypto.suite import CryptoSuite

__all__ = ["SIGNATURE_BYTES", "SM2_KEY_BYTES", "VERIFY_KEY_CODEC_CODE", "SigningKey",
           "VerifyKey"]

SIGNATURE_BYTES = 64
VERIFY_KEY_CODEC_CODE = 20


SM2_KEY_BYTES = 33


class VerifyKey:
    """A public key (Ed25519: 32 bytes, SM2: 33 bytes): verifies signatures; safe to publish."""

    __slots__ = ("_key", "_sm2")

    def __init__(self, key_bytes: bytes) -> None:
        self._sm2: Sm2VerifyKey | None = None
        if isinstance(key_bytes, bytes) and len(key_bytes) == SM2_KEY_BYTES:
            self._sm2 = Sm2VerifyKey(key_bytes)  # CryptoError unless an SM2 point
            return
        try:
            self._key = nacl.signing.VerifyKey(bytes(key_bytes))
        except (nacl.exceptions.ValueError, nacl.exceptions.TypeError, TypeError) as exc:
            raise CryptoError("invalid Ed25519 public key") from exc

    @property
    def suite(self) -> CryptoSuite:
        """The crypto suite of this key (``standard`` for Ed25519, ``sm`` for SM2)."""
        return CryptoSuite.STANDARD if self._sm2 is None else CryptoSuite.SM

    def to_bytes(self) -> bytes:
        """The public key: 32 bytes (Ed25519) or 33 (compressed SM2 point)."""
        if self._sm2 is not None:
            return self._sm2.encoded
        return bytes(self._key)

    def fingerprint(self) -> str:
        """Hex SHA-256 of the public key: a short stable name for pinning and logs."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def verify(self, message: bytes, signature: bytes, *,
               suite: CryptoSuite | str | None = None) -> None:
        """Raise :class:`CryptoError` unless ``signature`` is this key's signature of
        ``message`` — and, when ``suite`` is given, unless this key belongs to that suite."""
        if suite is not None and CryptoSuite(suite) != self.suite:
            raise CryptoError("signature of another crypto suite", expected=str(suite),
                              got=self.suite.value)
        if len(signature) != SIGNATURE_BYTES:
            raise CryptoError("signature must be 64 bytes", length=len(signature))
        if self._sm2 is not None:
            self._sm2.verify(bytes(signature), bytes(message))
            return
        try:
            self._key.verify(bytes(message), bytes(signature))
        except nacl.exceptions.BadSignatureError as exc:
            raise CryptoError("bad signature", key=self.fingerprint()[:16]) from exc

    def __reduce__(self) -> tuple[type[VerifyKey], tuple[bytes]]:
        # by value: an SM2 key holds libcrypto handles, which do not pickle
        return VerifyKey, (self.to_bytes(),)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"VerifyKey({self.fingerprint()[:16]})"


class SigningKey:
    """A secret signing key of one suite (Ed25519 seed, or SM2 private key; 32 bytes either
    way). Its owner signs with it; only :attr:`verify_key` leaves."""

    __slots__ = ("_key", "_sm2")

    def __init__(self, seed: bytes, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        if len(seed) != 32:
            raise CryptoError("signing key seed must be 32 bytes", length=len(seed))
        self._sm2: Sm2SigningKey | None = None
        if CryptoSuite(suite) == CryptoSuite.SM:
            try:
                self._sm2 = Sm2SigningKey.from_bytes(bytes(seed))
            except InputError as exc:  # out of range
                raise CryptoError("not an SM2 private key") from exc
            return
        self._key = nacl.signing.SigningKey(bytes(seed))

    @classmethod
    def generate(cls, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> SigningKey:
        """A fresh key (libsodium's generator for Ed25519, ``secrets`` for SM2)."""
        if CryptoSuite(suite) == CryptoSuite.SM:
            return cls(Sm2SigningKey.generate().to_bytes(), suite)
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def suite(self) -> CryptoSuite:
        """The crypto suite of this key."""
        return CryptoSuite.STANDARD if self._sm2 is None else CryptoSuite.SM

    def to_seed(self) -> bytes:
        """The 32-byte secret, for the owner's key store (never for the wire)."""
        if self._sm2 is not None:
            return self._sm2.to_bytes()
        return bytes(self._key)

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        if self._sm2 is not None:
            return VerifyKey(self._sm2.verify_key.encoded)
        return VerifyKey(bytes(self._key.verify_key))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of ``message`` (Ed25519: deterministic, RFC 8032;
        SM2: ``r || s`` with a fresh random nonce)."""
        if self._sm2 is not None:
            return self._sm2.sign(bytes(message))
        return bytes(self._key.sign(bytes(message)).signature)

    def __repr__(self) -> str:
        return f"SigningKey(<secret>, {self.verify_key!r})"


def _verify_key_from_wire(value: Any) -> VerifyKey:
    if not isinstance(value, bytes) or len(value) not in (32, SM2_KEY_BYTES):
        raise CodecError("verify key on the wire must be 32 or 33 bytes")
    return VerifyKey(value)


codec.register_extension(VERIFY_KEY_CODEC_CODE, VerifyKey, VerifyKey.to_bytes,
                         _verify_key_from_wire)
