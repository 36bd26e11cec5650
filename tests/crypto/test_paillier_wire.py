"""Paillier codec extensions: round trips, refusals, corrupt payloads."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from coalition.core import codec
from coalition.core.errors import CodecError
from coalition.crypto.paillier import (
    EXT_ENCRYPTED_ARRAY,
    EXT_PUBLIC_KEY,
    InsecureKeyWarning,
    PaillierPrivateKey,
    PaillierPublicKey,
    generate_keypair,
)


@pytest.fixture(scope="module")
def keys() -> tuple[PaillierPublicKey, PaillierPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


def _ext(code: int, body: object) -> bytes:
    """A payload holding extension ``code`` whose inner value is ``body`` (codec-encoded)."""
    return msgpack.packb(msgpack.ExtType(code, codec.encode(body)))


def _array_body(pk: PaillierPublicKey, **override: object) -> dict[str, object]:
    width = (pk.nsquare.bit_length() + 7) // 8
    body: dict[str, object] = {"key": pk, "shape": [2], "scale": 40,
                               "c": (5).to_bytes(width, "big") * 2}
    body.update(override)
    return body


def test_public_key_round_trip(keys):
    pk, _ = keys
    back = codec.decode(codec.encode({"pk": pk}))["pk"]
    assert back == pk and back is pk  # interned per modulus
    assert back.hs == pk.hs


@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 2)])
def test_array_round_trip(keys, shape):
    pk, sk = keys
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 2.5
    enc = pk.encrypt(x, precision=33)
    back = codec.decode(codec.encode([enc]))[0]
    assert back.shape == shape and back.scale_bits == 33 and back.is_masked
    assert back.ciphertexts.tolist() == enc.ciphertexts.tolist()
    np.testing.assert_array_equal(sk.decrypt(back), x)


def test_ciphertext_blob_is_fixed_width(keys):
    pk, _ = keys
    width = (pk.nsquare.bit_length() + 7) // 8
    wire = codec.encode(pk.encrypt(np.zeros(100)))
    assert 100 * width <= len(wire) < 100 * width + 400


def test_unmasked_arrays_and_private_keys_are_refused(keys):
    pk, sk = keys
    plain = pk.encrypt([1.0, 2.0], rerandomize=False)
    with pytest.raises(CodecError):
        codec.encode(plain)
    with pytest.raises(CodecError):
        codec.encode(plain + 1.0)
    codec.encode(plain.rerandomize())
    with pytest.raises(CodecError):
        codec.encode(sk)


def test_hand_built_payload_is_accepted(keys):
    pk, _ = keys
    arr = codec.decode(_ext(EXT_ENCRYPTED_ARRAY, _array_body(pk)))
    assert arr.shape == (2,) and arr.ciphertexts.tolist() == [5, 5]


@pytest.mark.parametrize(
    "override",
    [
        {"c": b"\x00" * 10},                       # wrong length
        {"shape": [3]},                            # shape disagrees with body
        {"shape": [-2]},
        {"shape": "2"},
        {"scale": -1},
        {"scale": 10**6},
        {"scale": 1.5},
        {"key": 12345},                            # not a key
        {"extra": 1},
    ],
)
def test_corrupt_array_is_refused(keys, override):
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_ENCRYPTED_ARRAY, _array_body(keys[0], **override)))


@pytest.mark.parametrize("value", ["zero", "n2", "above"])
def test_out_of_range_ciphertext_is_refused(keys, value):
    pk, _ = keys
    width = (pk.nsquare.bit_length() + 7) // 8
    bad = {"zero": 0, "n2": int(pk.nsquare), "above": 2 ** (8 * width) - 1}[value]
    body = _array_body(pk, c=(5).to_bytes(width, "big") + bad.to_bytes(width, "big"))
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_ENCRYPTED_ARRAY, body))


@pytest.mark.parametrize("body", [{"n": 2**1024}, {"n": 15}, {"n": "x"}, {"m": 3}, [1]])
def test_corrupt_public_key_is_refused(body):
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_PUBLIC_KEY, body))


def test_truncated_payload_is_refused(keys):
    wire = codec.encode(keys[0].encrypt([1.0, 2.0]))
    with pytest.raises(CodecError):
        codec.decode(wire[:-7])
