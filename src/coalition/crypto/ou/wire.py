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

import numpy as np
from gmpy2 import mpz

from coalition.core.codec import register_extension
from coalition.core.errors import CodecError, CryptoError
from coalition.crypto.ou.array import EncryptedArray
from coalition.crypto.ou.keys import OUPublicKey
from coalition.crypto.paillier.encoding import MAX_SCALE_BITS

__all__ = ["EXT_ENCRYPTED_ARRAY", "EXT_PUBLIC_KEY", "register"]

EXT_PUBLIC_KEY = 18
EXT_ENCRYPTED_ARRAY = 19
_MAX_NDIM = 32


def _width(pk: OUPublicKey) -> int:
    return (pk.bits + 7) // 8


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


def array_to_wire(arr: EncryptedArray) -> dict[str, Any]:
    """The array as a fixed-width ciphertext blob; refuses unmasked arrays."""
    if not arr.is_masked:
        raise CodecError("refusing to send an unmasked EncryptedArray; call rerandomize() first")
    width = _width(arr.public_key)
    blob = b"".join(c.to_bytes(width, "big") for c in arr.ciphertexts.ravel().tolist())
    return {"key": arr.public_key, "shape": list(arr.shape), "scale": arr.scale_bits, "c": blob}


def array_from_wire(value: Any) -> EncryptedArray:
    """Validate key, shape, scale, blob length and every ``0 < c < n``."""
    if type(value) is not dict or set(value) != {"key", "shape", "scale", "c"}:
        raise CodecError("corrupt EncryptedArray")
    pk, shape, scale, blob = value["key"], value["shape"], value["scale"], value["c"]
    if type(pk) is not OUPublicKey:
        raise CodecError("EncryptedArray without a valid public key")
    if (type(shape) is not list or len(shape) > _MAX_NDIM
            or not all(type(s) is int and s >= 0 for s in shape)):
        raise CodecError("corrupt EncryptedArray shape")
    if type(scale) is not int or not 0 <= scale <= MAX_SCALE_BITS:
        raise CodecError("corrupt EncryptedArray scale")
    width = _width(pk)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if type(blob) is not bytes or len(blob) != count * width:
        raise CodecError("EncryptedArray body does not match its shape", shape=shape)
    n = pk.n
    cs = [mpz.from_bytes(blob[i:i + width], "big") for i in range(0, len(blob), width)]
    if any(not 0 < c < n for c in cs):
        raise CodecError("ciphertext out of range")
    out = np.empty(count, dtype=object)
    out[:] = cs
    return EncryptedArray(pk, out.reshape(shape), scale, masked=True)


def register() -> None:
    """Register both extensions (idempotent)."""
    register_extension(EXT_PUBLIC_KEY, OUPublicKey, public_key_to_wire, public_key_from_wire)
    register_extension(EXT_ENCRYPTED_ARRAY, EncryptedArray, array_to_wire, array_from_wire)
