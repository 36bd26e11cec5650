import msgpack
import pytest

from coalition.core import codec
from coalition.core.errors import CodecError, CryptoError
from coalition.crypto.signing import SigningKey, VerifyKey


def test_sign_verify_and_tamper():
    sk = SigningKey.generate()
    sig = sk.sign(b"model part v1")
    sk.verify_key.verify(b"model part v1", sig)
    with pytest.raises(CryptoError):
        sk.verify_key.verify(b"model part v2", sig)
    with pytest.raises(CryptoError):
        SigningKey.generate().verify_key.verify(b"model part v1", sig)
    with pytest.raises(CryptoError):
        sk.verify_key.verify(b"model part v1", sig[:10])


def test_seed_round_trip_is_deterministic():
    sk = SigningKey.generate()
    again = SigningKey(sk.to_seed())
    assert again.sign(b"m") == sk.sign(b"m")
    assert again.verify_key == sk.verify_key


def test_verify_key_travels_through_codec():
    vk = SigningKey.generate().verify_key
    back = codec.decode(codec.encode({"key": vk}))["key"]
    assert back == vk and isinstance(back, VerifyKey)
    forged = msgpack.packb(msgpack.ExtType(20, msgpack.packb(b"short", use_bin_type=True)))
    with pytest.raises(CodecError):
        codec.decode(forged)
