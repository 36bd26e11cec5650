"""The codec form of an additive-HE ciphertext array, shared by Paillier and Okamoto–Uchiyama.

An array crosses as ``{key, shape, scale, c}`` with ``c`` a fixed-width big-endian blob (the
width of the scheme's ciphertext modulus). Only masked arrays are sent; a received array is
checked field by field — key type, shape, scale, blob length, and every ``0 < c < modulus`` —
before any ciphertext is used.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from gmpy2 import mpz

from coalition.core.errors import CodecError
from coalition.crypto.paillier.additive import AdditiveArray
from coalition.crypto.paillier.encoding import MAX_SCALE_BITS

__all__ = ["array_from_wire", "array_to_wire"]

_MAX_NDIM = 32
A = TypeVar("A", bound=AdditiveArray[Any])


def _width(array_type: type[AdditiveArray[Any]], public_key: Any) -> int:
    return (int(array_type.modulus_of(public_key).bit_length()) + 7) // 8


def array_to_wire(arr: AdditiveArray[Any]) -> dict[str, Any]:
    """The array as a fixed-width ciphertext blob; refuses unmasked arrays."""
    if not arr.is_masked:
        raise CodecError("refusing to send an unmasked EncryptedArray; call rerandomize() first")
    width = _width(type(arr), arr.public_key)
    blob = b"".join(c.to_bytes(width, "big") for c in arr.ciphertexts.ravel().tolist())
    return {"key": arr.public_key, "shape": list(arr.shape), "scale": arr.scale_bits, "c": blob}


def array_from_wire(value: Any, array_type: type[A], key_type: type) -> A:
    """Validate key (exactly ``key_type``), shape, scale, blob length and every
    ``0 < c < modulus``; a masked ``array_type``."""
    if type(value) is not dict or set(value) != {"key", "shape", "scale", "c"}:
        raise CodecError("corrupt EncryptedArray")
    pk, shape, scale, blob = value["key"], value["shape"], value["scale"], value["c"]
    if type(pk) is not key_type:
        raise CodecError("EncryptedArray without a valid public key")
    if (type(shape) is not list or len(shape) > _MAX_NDIM
            or not all(type(s) is int and s >= 0 for s in shape)):
        raise CodecError("corrupt EncryptedArray shape")
    if type(scale) is not int or not 0 <= scale <= MAX_SCALE_BITS:
        raise CodecError("corrupt EncryptedArray scale")
    width = _width(array_type, pk)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if type(blob) is not bytes or len(blob) != count * width:
        raise CodecError("EncryptedArray body does not match its shape", shape=shape)
    modulus = array_type.modulus_of(pk)
    cs = [mpz.from_bytes(blob[i:i + width], "big") for i in range(0, len(blob), width)]
    if any(not 0 < c < modulus for c in cs):
        raise CodecError("ciphertext out of range")
    out = np.empty(count, dtype=object)
    out[:] = cs
    return array_type(pk, out.reshape(shape), scale, masked=True)
