"""Paillier kernels: the batch fixed-base exponentiation and the table-building policy."""

from __future__ import annotations

import secrets

import gmpy2
import pytest
from gmpy2 import mpz

from coalition.crypto.paillier import kernels
from coalition.crypto.paillier.fixedbase import FixedBaseTable


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
