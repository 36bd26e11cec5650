"""SM4 (GB/T 32907-2016) in Galois/Counter Mode as an AEAD (RFC 8998 §3.1, ``TLS_SM4_GCM_SM3``),
through ``cryptography`` (OpenSSL).

The contract is that of AES-GCM: a 128-bit key, a 96-bit nonce that MUST NOT repeat under one
key, a 128-bit tag appended to the ciphertext; :meth:`Sm4Gcm.decrypt` raises
:class:`CryptoError` on any change to nonce, ciphertext, tag or associated data, and never
returns unauthenticated plaintext.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from coalition.core.errors import CryptoError, InputError

__all__ = ["KEY_BYTES", "NONCE_BYTES", "TAG_BYTES", "Sm4Gcm"]

KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16


class Sm4Gcm:
    """SM4-GCM under one key; the same ``encrypt``/``decrypt`` shape as ``cryptography``'s AEADs."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise InputError("SM4 keys are 16 bytes")
        self._key = bytes(key)

    @staticmethod
    def generate_key() -> bytes:
        """A fresh random 128-bit key."""
        return secrets.token_bytes(KEY_BYTES)

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """``ciphertext || tag`` of ``data``, authenticating ``associated_data`` too."""
        _check_nonce(nonce)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        if associated_data:
            encryptor.authenticate_additional_data(associated_data)
        body = encryptor.update(data) + encryptor.finalize()
        return body + encryptor.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """The plaintext of ``ciphertext || tag``; :class:`CryptoError` if authentication fails."""
        _check_nonce(nonce)
        if len(data) < TAG_BYTES:
            raise CryptoError("SM4-GCM ciphertext shorter than its tag")
        body, tag = data[:-TAG_BYTES], data[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        if associated_data:
            decryptor.authenticate_additional_data(associated_data)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag as exc:
            raise CryptoError("SM4-GCM authentication failed") from exc


def _check_nonce(nonce: bytes) -> None:
    if len(nonce) != NONCE_BYTES:
        raise InputError("SM4-GCM nonces are 12 bytes")
