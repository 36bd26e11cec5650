import numpy as np
import pytest

from coalition.compute import ProcessExecutor
from coalition.core.errors import CryptoError
from coalition.crypto.ecdh import CommutativeKey, hash_ids

IDS = [f"id{i}".encode() for i in range(200)]


def test_commutativity_batch():
    a, b = CommutativeKey.generate(), CommutativeKey.generate()
    h = hash_ids(IDS)
    assert np.array_equal(a.encrypt(b.encrypt(h)), b.encrypt(a.encrypt(h)))
    assert not np.array_equal(a.encrypt(h), b.encrypt(h))


def test_hash_is_canonical_and_deterministic():
    h = hash_ids(IDS)
    assert h.shape == (200, 32)
    assert np.all(h[:, 31] < 0x80)
    assert np.array_equal(h, hash_ids(IDS))
    assert not np.array_equal(hash_ids(IDS, b"other"), h)


def test_low_order_value_is_refused():
    with pytest.raises(CryptoError):
        CommutativeKey.generate().encrypt(np.zeros((1, 32), dtype=np.uint8))


def test_key_is_not_revealed_by_repr():
    assert "secret" in repr(CommutativeKey.generate())


def test_parallel_equals_serial():
    a = CommutativeKey.generate()
    h = hash_ids([str(i).encode() for i in range(5000)])
    ex = ProcessExecutor(2)
    try:
        assert np.array_equal(a.encrypt(h, executor=ex), a.encrypt(h))
    finally:
        ex.shutdown()
