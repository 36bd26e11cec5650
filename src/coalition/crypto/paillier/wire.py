"""Codec extensions: ``PaillierPublicKey`` (code 16) and ``EncryptedArray`` (code 17).

Wire forms (msgpack maps of plain values, validated on arrival — the sender may be hostile):

* public key: ``{"n": int}`` — odd, 1024..8192 bits. The receiver draws its own DJN base.
* array: ``{"key": <public key>, "shape": [int...], "scale": int, "c": bytes}`` where ``c``
  is every ciphertext as a fixed-width big-endian integer of ``ceil(bits(n²)/8)`` bytes, in
  C order; each must satisfy ``0 < c < n²``.

Unmasked arrays (``is_masked`` false: plain ``g^m``, readable by anyone) are refused at
encoding time. Private keys are not registered and so can never be encoded.
"""

from __future__ import annotations

from typing import Any

from coalition.core.codec import register_extension
from coalition.core.errors import CodecError, CryptoError
from coalition.crypto.paillier import arraywire
from coalition.crypto.paillier.array import EncryptedArray
from coalition.crypto.paillier.keys import PaillierPublicKey

__all__ = ["EXT_ENCRYPTED_ARRAY", "EXT_PUBLIC_KEY", "register"]

EXT_PUBLIC_KEY = 16
EXT_ENCRYPTED_ARRAY = 17


def public_key_to_wire(pk: PaillierPublicKey) -> dict[str, Any]:
    """The key as ``{"n": n}``."""
    return {"n": int(pk.n)}


def public_key_from_wire(value: Any) -> PaillierPublicKey:
    """Validate and intern a received public key."""
    if type(value) is not dict or set(value) != {"n"} or type(value["n"]) is not int:
        raise CodecError("corrupt Paillier public key")
    try:
        return PaillierPublicKey.from_n(value["n"])
    except CryptoError as exc:
        raise CodecError("invalid Paillier public key", reason=exc.message) from exc


def array_from_wire(value: Any) -> EncryptedArray:
    """A validated, masked array (:func:`~coalition.crypto.paillier.arraywire.array_from_wire`)."""
    return arraywire.array_from_wire(value, EncryptedArray, PaillierPublicKey)


def register() -> None:
    """Register both extensions (idempotent)."""
    register_extension(EXT_PUBLIC_KEY, PaillierPublicKey, public_key_to_wire, public_key_from_wire)
    register_extension(EXT_ENCRYPTED_ARRAY, EncryptedArray, arraywire.array_to_wire,
                       array_from_wire)
