import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.symmetric import AesEcb, CtrStream, cbc_mac, cr_hash


def _blocks(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint64).reshape(-1, 2).copy()


def test_aes_ecb_known_answer_fips197():
    aes = AesEcb(bytes(range(16)))
    out = aes.encrypt(_blocks(bytes.fromhex("00112233445566778899aabbccddeeff")))
    assert out.tobytes().hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_aes_ecb_keeps_shape_and_matches_openssl_on_many_blocks():
    key, data = os.urandom(16), os.urandom(16 * 1000)
    ref = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)
    blocks = _blocks(data).reshape(10, 100, 2)
    out = AesEcb(key).encrypt(blocks)
    assert out.shape == blocks.shape and out.tobytes() == ref
    assert AesEcb(key).encrypt(np.zeros((0, 2), dtype=np.uint64)).shape == (0, 2)
    with pytest.raises(InputError):
        AesEcb(key).encrypt(np.zeros((4, 3), dtype=np.uint64))
    with pytest.raises(CryptoError):
        AesEcb(b"short")


def test_ctr_stream_is_chunkable_and_matches_openssl():
    seed = os.urandom(16)
    ref = Cipher(algorithms.AES(seed), modes.CTR(bytes(16))).encryptor().update(bytes(5000))
    stream = CtrStream(seed)
    parts = [stream.read(n).tobytes() for n in (16, 1000, 7, 3977)]
    assert b"".join(parts) == ref
    assert CtrStream(os.urandom(16)).read(64).tobytes() != ref[:64]
    with pytest.raises(InputError):
        CtrStream(seed).read_into(np.zeros(8, dtype=np.uint8))  # no spare block


def test_cbc_mac_equals_cbc_last_block():
    key = os.urandom(16)
    msgs = np.frombuffer(os.urandom(5 * 48), dtype=np.uint8).reshape(5, 48)
    out = cbc_mac(AesEcb(key), msgs, 3)
    for row, tag in zip(msgs, out, strict=True):
        ct = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor().update(row.tobytes())
        assert tag.tobytes() == ct[-16:]
    with pytest.raises(InputError):
        cbc_mac(AesEcb(key), msgs, 2)


def _rows(rng, n):
    return rng.integers(0, 2**64, size=(4, n, 2), dtype=np.uint64, endpoint=False)


def test_cr_hash_is_deterministic_and_separates_rows_tweaks_and_blocks():
    rng = np.random.default_rng(0)
    perm = AesEcb(os.urandom(16))
    rows = _rows(rng, 200)
    tweaks = np.arange(200, dtype=np.uint64)
    h = cr_hash(perm, rows, tweaks, 10)
    assert h.shape == (200, 10) and h.dtype == np.uint8
    assert np.array_equal(h, cr_hash(perm, rows.copy(), tweaks, 10))
    assert np.unique(h, axis=0).shape[0] == 200
    # another tweak, a flipped bit, or swapped blocks each change every output
    assert np.all(np.any(cr_hash(perm, rows, tweaks + np.uint64(1), 10) != h, axis=1))
    flipped = rows.copy()
    flipped[3, :, 1] ^= np.uint64(1)
    assert np.all(np.any(cr_hash(perm, flipped, tweaks, 10) != h, axis=1))
    assert np.all(np.any(cr_hash(perm, rows[[1, 0, 2, 3]], tweaks, 10) != h, axis=1))
    # the 16-byte output extends the truncated one; another permutation key changes it
    assert np.array_equal(cr_hash(perm, rows, tweaks, 16)[:, :10], h)
    assert np.all(np.any(cr_hash(AesEcb(os.urandom(16)), rows, tweaks, 10) != h, axis=1))


def test_cr_hash_validates_shapes():
    perm = AesEcb(os.urandom(16))
    rows = np.zeros((4, 3, 2), dtype=np.uint64)
    with pytest.raises(InputError):
        cr_hash(perm, np.zeros((3, 3, 2), dtype=np.uint64), np.zeros(3, np.uint64), 8)
    with pytest.raises(InputError):
        cr_hash(perm, rows, np.zeros(2, np.uint64), 8)
    with pytest.raises(InputError):
        cr_hash(perm, rows, np.zeros(3, np.uint64), 17)
