"""Finding 10: SS-LR correlated randomness comes from a CSPRNG (HKDF-SHA256 + ChaCha20), not
Philox. The tests check the construction against ``cryptography`` directly, the independence of
purposes and seeds, and that the old Philox expansion of a seed no longer reproduces a mask."""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.protocols.linear.ss.correlated import Purpose, ShareStream

SEED = 0x0123456789ABCDEF_FEDCBA9876543210


def _reference(seed: int, purpose: int, *index: int, n: int) -> np.ndarray:
    """The documented construction, spelled out with ``cryptography`` primitives only."""
    info = len(b"ss-lr").to_bytes(2, "big") + b"ss-lr" + b"".join(
        i.to_bytes(8, "big") for i in (purpose, *index))
    key = HKDF(hashes.SHA256(), 32, salt=b"coalition/ss-lr/correlated/v2",
               info=info).derive(seed.to_bytes(16, "big"))
    stream = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return np.frombuffer(stream.update(bytes(8 * n)), dtype="<u8").astype(np.uint64)


def test_share_stream_is_hkdf_keyed_chacha20_known_answer():
    got = ShareStream(SEED).ring(Purpose.V, 3, 7, shape=(5, 4))
    assert got.dtype == np.uint64 and got.shape == (5, 4)
    np.testing.assert_array_equal(got.ravel(), _reference(SEED, int(Purpose.V), 3, 7, n=20))
    scalar = ShareStream(SEED).ring(Purpose.S, 0, 1)
    assert scalar.shape == () and int(scalar) == int(_reference(SEED, int(Purpose.S), 0, 1, n=1)[0])


def test_rfc5869_and_rfc8439_vectors():
    from coalition.crypto.prg import derive, expand

    # RFC 5869 test case 1 (HKDF-SHA256, 42 bytes; we take the first 32).
    ikm, salt = bytes([0x0B] * 22), bytes(range(13))
    info = bytes(range(0xF0, 0xFA))
    okm = ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
           "34007208d5b887185865")
    assert derive(ikm, salt, info) == bytes.fromhex(okm)[:32]
    # RFC 8439 §2.4.2 keystream prefix would need counter 1; with counter 0 and the all-zero
    # key/nonce the first block is the well-known ChaCha20 zero vector (RFC 8439 A.1 #1).
    first = expand(bytes(32), 2)
    assert first.astype("<u8").tobytes().hex() == "76b8e0ada0f13d90405d6ae55386bd28"


def test_purposes_indices_and_seeds_give_unrelated_streams():
    from coalition.crypto.prg import Stream, purpose_info

    s, t = ShareStream(SEED), ShareStream(SEED + 1)
    streams = [s.ring(Purpose.V, 0, 0, shape=(64,)), s.ring(Purpose.VT, 0, 0, shape=(64,)),
               s.ring(Purpose.V, 0, 1, shape=(64,)), s.ring(Purpose.V, 1, 0, shape=(64,)),
               s.ring(Purpose.AW, 0, shape=(64,)), t.ring(Purpose.V, 0, 0, shape=(64,))]
    for i, a in enumerate(streams):
        for b in streams[i + 1:]:
            assert not np.any(a == b)  # 64-bit words: a single equal word is a 2^-58 event
    # prefix property of one stream, and the info encoding is injective over index counts
    np.testing.assert_array_equal(s.ring(Purpose.U, shape=(10,)), s.ring(Purpose.U, shape=(20,))[:10])
    assert purpose_info(b"x", 1, 0) != purpose_info(b"x", 1)
    assert Stream(bytes(16), b"a").key(b"i") != Stream(bytes(16), b"b").key(b"i")


def test_masks_are_not_the_old_philox_expansion_of_the_seed():
    """An attacker who knows how the old code keyed Philox reproduces every mask of a leaked
    or reused seed cheaply, and Philox is not a CSPRNG; the new stream is not that stream
    (fails on 3deb866, where ``ring`` was exactly this Philox output)."""
    words = [(SEED >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    philox = np.random.Philox(np.random.SeedSequence([*words, int(Purpose.U)]))
    old = philox.random_raw(32).astype(np.uint64)
    new = ShareStream(SEED).ring(Purpose.U, shape=(32,))
    assert not np.any(old == new)


def test_secagg_uses_the_shared_prg():
    from coalition.crypto.prg import expand
    from coalition.protocols.horizontal.secagg import prg as secagg_prg

    assert secagg_prg.expand is expand


def _sm_reference(seed: int, purpose: int, *index: int, n: int) -> np.ndarray:
    """The ``sm`` construction with ``cryptography`` only: HKDF-SM3 key, SM4-CTR keystream
    under ``key[:16]`` from the counter block ``key[16:]``."""
    from cryptography.hazmat.primitives.ciphers import modes

    info = len(b"ss-lr").to_bytes(2, "big") + b"ss-lr" + b"".join(
        i.to_bytes(8, "big") for i in (purpose, *index))
    key = HKDF(hashes.SM3(), 32, salt=b"coalition/ss-lr/correlated/v2",
               info=info).derive(seed.to_bytes(16, "big"))
    stream = Cipher(algorithms.SM4(key[:16]), modes.CTR(key[16:])).encryptor()
    return np.frombuffer(stream.update(bytes(8 * n)), dtype="<u8").astype(np.uint64)


def test_share_stream_under_sm_is_hkdf_sm3_keyed_sm4_ctr_known_answer():
    got = ShareStream(SEED, "sm").ring(Purpose.V, 3, 7, shape=(5, 4))
    np.testing.assert_array_equal(got.ravel(), _sm_reference(SEED, int(Purpose.V), 3, 7, n=20))
    # the standard stream is unchanged by the suite parameter's arrival, and differs from sm
    np.testing.assert_array_equal(ShareStream(SEED, "standard").ring(Purpose.V, 3, 7, shape=(20,)),
                                  _reference(SEED, int(Purpose.V), 3, 7, n=20))
    assert not np.any(got.ravel() == _reference(SEED, int(Purpose.V), 3, 7, n=20))


def test_guest_draws_take_the_suites_keystream():
    from coalition.components.data_split import split_positions
    from coalition.components.feature_sample import sample_positions
    from coalition.crypto.prg import expand, expand_for, expand_sm4

    assert expand_for("standard") is expand and expand_for("sm") is expand_sm4
    y = np.array([0.0] * 700 + [1.0] * 300)
    key = bytes(range(32))
    for draw in (lambda s: split_positions(1000, y, 0.3, key, suite=s),
                 lambda s: sample_positions(1000, y, 0.4, key, suite=s)):
        std, sm = draw("standard"), draw("sm")
        assert not np.array_equal(std, sm)  # another keystream, another draw ...
        assert std.size == sm.size  # ... of the same sizes per class
        assert (y[std] == 1).sum() == (y[sm] == 1).sum()
    # standard stays bit-identical to the ChaCha20 stream of the key
    words = expand(key, 1000)
    std = split_positions(1000, None, 0.3, key)
    np.testing.assert_array_equal(std, np.sort(np.argsort(words, kind="stable")[:300]))
