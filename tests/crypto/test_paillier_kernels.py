"""Paillier kernels: the batch fixed-base exponentiation and the table-building policy."""

from __future__ import annotations

import secrets

import gmpy2
import pytest
from gmpy2 import mpz

from coalition.crypto.paillier import InsecureKeyWarning, generate_keypair, kernels
from coalition.crypto.paillier.fixedbase import FixedBaseTable


@pytest.fixture(scope="module")
def keys_1024():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


def test_pow_many_matches_powmod():
    mod = mpz(2**521 - 1)
    table = FixedBaseTable(123456789, mod, 8)
    for count in (0, 1, 7, 600):  # 600 spans two row-major blocks
        rnd = secrets.token_bytes(8 * count)
        got = table.pow_many(rnd, count)
        want = [gmpy2.powmod(123456789, int.from_bytes(rnd[i * 8:(i + 1) * 8], "little"), mod)
                for i in range(count)]
        assert got == want
    assert table.pow_many(bytes(8), 1) == [1]
    with pytest.raises(ValueError):
        table.pow_many(bytes(7), 1)


def test_small_batches_build_the_table_once_demand_adds_up():
    n = int(gmpy2.next_prime(2**600)) * int(gmpy2.next_prime(2**601))
    hs = 7
    key = ("pub", n, hs)
    for _ in range(kernels.SMALL_BATCH // 8 - 1):
        kernels._public_masks(n, hs, 8)
        assert key not in kernels._cache  # few exponentiations so far: plain powmod
    masks = kernels._public_masks(n, hs, 8)
    assert key in kernels._cache
    assert all(0 < m < n * n for m in masks)


def test_straus_and_offset_match_bucket_including_signs_and_zero_columns():
    import numpy as np

    from coalition.crypto.paillier.multiexp import XtDotTask, _offset_xt_dot, xt_dot_chunk
    from coalition.crypto.paillier.straus import best_group, straus_xt_dot

    mod = mpz(2**127 - 1)
    rng = np.random.default_rng(5)
    for rows, cols in ((1, 2), (13, 5), (100, 7)):
        cs = [mpz(int(b)) for b in rng.integers(2, 2**62, size=rows)]
        K = rng.integers(-2**20, 2**20, size=(rows, cols))
        K[:, 0] = 0  # an all-zero column
        K[rows // 2:, -1] = -K[rows // 2:, -1]
        want = xt_dot_chunk(XtDotTask(int(mod), cs, K.astype(object)))  # bucket path
        assert want[0] is None
        for k in (2, best_group(rows, cols, 21), 9):
            assert straus_xt_dot(cs, K, mod, k) == want
        assert _offset_xt_dot(cs, K, mod, int(np.abs(K).max()).bit_length()) == want
        assert xt_dot_chunk(XtDotTask(int(mod), cs, K)) == want  # whichever path is cheapest
    assert straus_xt_dot(cs, np.zeros((100, 3), dtype=np.int64), mod, 4) == [None] * 3


def test_uniform_rerandomize_keeps_plaintexts(keys_1024):
    import numpy as np

    pk, sk = keys_1024
    enc = pk.encrypt(np.array([1.5, -2.0, 0.0]))
    fresh = enc.rerandomize(uniform=True)
    assert fresh.is_masked
    assert set(fresh.ciphertexts.tolist()).isdisjoint(enc.ciphertexts.tolist())
    np.testing.assert_array_equal(sk.decrypt(fresh), sk.decrypt(enc))


def test_precomputed_randomisers_are_used_once(keys_1024):
    import numpy as np

    pk, sk = keys_1024
    x = np.array([0.25, -3.0, 7.5, 0.0, 1e6])
    sk.precompute(3)
    pk.precompute(4)
    assert len(pk.pool) == 7
    first = sk.encrypt(x)  # 5 from the pool
    second = pk.encrypt(x)  # 2 from the pool, 3 made now
    assert len(pk.pool) == 0
    np.testing.assert_allclose(sk.decrypt(first), x, atol=2.0**-40, rtol=0)
    np.testing.assert_allclose(sk.decrypt(second), x, atol=2.0**-40, rtol=0)
    cts = [*first.ciphertexts.tolist(), *second.ciphertexts.tolist()]
    assert len(set(cts)) == len(cts)  # no randomiser served twice
    pk.precompute(5)
    again = first.rerandomize()
    assert len(pk.pool) == 0
    assert set(again.ciphertexts.tolist()).isdisjoint(cts)
    np.testing.assert_array_equal(sk.decrypt(again), sk.decrypt(first))
