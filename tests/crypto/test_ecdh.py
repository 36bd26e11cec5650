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


def test_hash_lands_in_the_prime_order_group():
    from nacl import bindings as sodium

    from coalition.crypto.ecdh import DEFAULT_DST, edwards_to_u, validate_values
    from coalition.crypto.group import hash_to_group_batch

    h = hash_ids(IDS)
    validate_values(h)  # every H(x) is a non-identity subgroup element
    # and u(H(x)) is the u-coordinate of group.hash_to_group(x), a checked subgroup point
    points = hash_to_group_batch(IDS, DEFAULT_DST)
    assert all(sodium.crypto_core_ed25519_is_valid_point(bytes(p)) for p in points)
    assert np.array_equal(edwards_to_u(points), h)


def test_x25519_is_scalar_multiplication_in_the_group():
    """X25519 with a clamped key equals libsodium's edwards25519 [k]P, mapped to u."""
    from nacl import bindings as sodium

    from coalition.crypto.ecdh import DEFAULT_DST, edwards_to_u, x25519_chunk
    from coalition.crypto.group import as_points, hash_to_group_batch

    key = b"\x07" * 32
    points = hash_to_group_batch(IDS[:20], DEFAULT_DST)
    via_sodium = as_points([bytes(sodium.crypto_scalarmult_ed25519(key, bytes(p)))
                            for p in points])
    assert np.array_equal(x25519_chunk((key, edwards_to_u(points))), edwards_to_u(via_sodium))


def test_parallel_validation_refuses_a_bad_row_in_any_chunk():
    from coalition.crypto.ecdh import validate_values

    h = hash_ids([str(i).encode() for i in range(5000)])
    h[4321, 31] |= 0x80  # non-canonical encoding deep inside the batch
    ex = ProcessExecutor(2)
    try:
        with pytest.raises(CryptoError):
            validate_values(h, executor=ex)
        with pytest.raises(CryptoError):
            CommutativeKey.generate().encrypt(h, executor=ex)
    finally:
        ex.shutdown()


def test_no_clamped_key_is_a_multiple_of_the_order():
    """Why [k] is a bijection on the group for every X25519 key (see the module docstring)."""
    from coalition.crypto.group import ORDER

    lo, hi = 2**254, 2**255  # clamped scalars: in [2^254, 2^255), multiples of 8
    multiples = [c * ORDER for c in range(lo // ORDER, hi // ORDER + 1) if lo <= c * ORDER < hi]
    assert multiples and all(m % 8 for m in multiples)
