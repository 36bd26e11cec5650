"""Okamoto–Uchiyama codec extensions: round trips, refusals, corrupt payloads."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from coalition.core import codec
from coalition.core.errors import CodecError
from coalition.crypto.ou import (
    EXT_ENCRYPTED_ARRAY,
    EXT_PUBLIC_KEY,
    InsecureKeyWarning,
    OUPrivateKey,
    OUPublicKey,
    generate_keypair,
)


@pytest.fixture(scope="module")
def keys() -> tuple[OUPublicKey, OUPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


def _ext(code: int, body: object) -> bytes:
    """A payload holding extension ``code`` whose inner value is ``body`` (codec-encoded)."""
    return msgpack.packb(msgpack.ExtType(code, codec.encode(body)))


def _width(pk: OUPublicKey) -> int:
    return (pk.n.bit_length() + 7) // 8


def _array_body(pk: OUPublicKey, **override: object) -> dict[str, object]:
    body: dict[str, object] = {"key": pk, "shape": [2], "scale": 40,
                               "c": (5).to_bytes(_width(pk), "big") * 2}
    body.update(override)
    return body


def test_public_key_round_trip(keys):
    pk, _ = keys
    back = codec.decode(codec.encode(pk))
    assert back is pk  # interned: the fixed-base tables are shared
    assert codec.decode(codec.encode([pk, pk])) == [pk, pk]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0,)])
def test_array_round_trip(keys, shape):
    pk, sk = keys
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 1.5
    enc = pk.encrypt(x, precision=30)
    back = codec.decode(codec.encode(enc))
    assert back.shape == shape and back.scale_bits == 30 and back.is_masked
    assert back.ciphertexts.tolist() == enc.ciphertexts.tolist()
    np.testing.assert_allclose(sk.decrypt(back), x, atol=2.0**-30)


def test_ciphertext_blob_is_fixed_width_mod_n(keys):
    pk, _ = keys
    wire = codec.encode(pk.encrypt(np.zeros(100)))
    # ciphertexts mod n: half the bytes of Paillier's mod-n² at the same n
    assert 100 * _width(pk) <= len(wire) < 100 * _width(pk) + 600


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
        {"c": b"\x00" * 10},
        {"shape": [3]},
        {"shape": [-2]},
        {"shape": "2"},
        {"scale": -1},
        {"scale": 10**6},
        {"scale": 1.5},
        {"key": 12345},
        {"extra": 1},
    ],
)
def test_corrupt_array_is_refused(keys, override):
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_ENCRYPTED_ARRAY, _array_body(keys[0], **override)))


@pytest.mark.parametrize("value", ["zero", "n", "above"])
def test_out_of_range_ciphertext_is_refused(keys, value):
    pk, _ = keys
    width = _width(pk)
    bad = {"zero": 0, "n": int(pk.n), "above": 2 ** (8 * width) - 1}[value]
    body = _array_body(pk, c=(5).to_bytes(width, "big") + bad.to_bytes(width, "big"))
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_ENCRYPTED_ARRAY, body))


def test_paillier_key_cannot_carry_an_ou_array(keys):
    from coalition.crypto.paillier import generate_keypair as paillier_keypair

    with pytest.warns(InsecureKeyWarning):
        ppk, _ = paillier_keypair(1024, allow_insecure=True)
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_ENCRYPTED_ARRAY, _array_body(keys[0], key=ppk)))


def _key_body(pk: OUPublicKey, **override: object) -> dict[str, object]:
    body: dict[str, object] = {"n": int(pk.n), "g": int(pk.g), "h": int(pk.h)}
    body.update(override)
    return body


@pytest.mark.parametrize("override", [
    {"h": 7},                 # h is not g^n mod n
    {"g": 1},
    {"n": 15, "g": 2, "h": 8},
    {"n": 2**5000 + 1, "g": 2, "h": 3},  # beyond the largest supported size
    {"n": "x"},
    {"extra": 1},
])
def test_corrupt_public_key_is_refused(keys, override):
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_PUBLIC_KEY, _key_body(keys[0], **override)))
    with pytest.raises(CodecError):
        codec.decode(_ext(EXT_PUBLIC_KEY, [1]))


def test_truncated_payload_is_refused(keys):
    wire = codec.encode(keys[0].encrypt([1.0, 2.0]))
    with pytest.raises(CodecError):
        codec.decode(wire[:-7])
