"""Codec extensions: ``OUPublicKey`` (code 18) and OU ``EncryptedArray`` (code 19).

Wire forms (msgpack maps of plain values, validated on arrival — the sender may be hostile):

* public key: ``{"n": int, "g": int, "h": int}`` — ``n`` odd, 1024..4096 bits,
  ``1 < g, h < n``, ``gcd(g, n) = 1`` and ``h = g^n mod n`` (checked: one ``powmod``).
* array: ``{"key": <public key>, "shape": [int...], "scale": int, "c": bytes}`` where ``c``
  is every ciphertext as a fixed-width big-endian integer of ``ceil(bits(n)/8)`` bytes, in
  C order; each must satisfy ``0 < c < n``.

Unmasked arrays (plain ``g^m``, readable by anyone) are refused at encoding time. Private keys
are not registered and so can never be encoded.
"""

from __future__ import annotations

from typing import Any

from coalition.core.codec import register_extension
from coalition.core.errors import CodecError, CryptoError
from coalition.crypto.ou.array import EncryptedArray
from coalition.crypto.ou.keys import OUPublicKey
from coalition.crypto.paillier import arraywire

__all__ = ["EXT_ENCRYPTED_ARRAY", "EXT_PUBLIC_KEY", "register"]

EXT_PUBLIC_KEY = 18
EXT_ENCRYPTED_ARRAY = 19


def public_key_to_wire(pk: OUPublicKey) -> dict[str, Any]:
    """The key as ``{"n": n, "g": g, "h": h}``."""
    return {"n": int(pk.n), "g": int(pk.g), "h": int(pk.h)}


def public_key_from_wire(value: Any) -> OUPublicKey:
    """Validate and intern a received public key."""
    if (type(value) is not dict or set(value) != {"n", "g", "h"}
            or any(type(v) is not int for v in value.values())):
        raise CodecError("corrupt Okamoto-Uchiyama public key")
    try:
        return OUPublicKey.from_parts(value["n"], value["g"], value["h"])
    except CryptoError as exc:
        raise CodecError("invalid Okamoto-Uchiyama public key", reason=exc.message) from exc


def array_from_wire(value: Any) -> EncryptedArray:
    """A validated, masked array (:func:`~coalition.crypto.paillier.arraywire.array_from_wire`)."""
    return arraywire.array_from_wire(value, EncryptedArray, OUPublicKey)


def register() -> None:
    """Register both extensions (idempotent)."""
    register_extension(EXT_PUBLIC_KEY, OUPublicKey, public_key_to_wire, public_key_from_wire)
    register_extension(EXT_ENCRYPTED_ARRAY, EncryptedArray, arraywire.array_to_wire,
                       array_from_wire)
