"""Okamoto–Uchiyama chunked over a real process pool gives the same plaintexts as inline."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from coalition.compute import ProcessExecutor
from coalition.crypto.ou import InsecureKeyWarning, generate_keypair


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessExecutor]:
    ex = ProcessExecutor(2)
    yield ex
    ex.shutdown()


def test_process_pool_matches_inline(pool):
    with pytest.warns(InsecureKeyWarning):
        pk, sk = generate_keypair(1024, allow_insecure=True)
    rng = np.random.default_rng(7)
    d = rng.normal(size=600) * 10
    X = rng.normal(size=(600, 3))
    X[::5, 1] = 0.0

    enc_pool = sk.encrypt(d, executor=pool)
    enc_pub = pk.encrypt(d)
    np.testing.assert_array_equal(sk.decrypt(enc_pool, executor=pool), sk.decrypt(enc_pub))
    np.testing.assert_allclose(sk.decrypt(enc_pool), d, atol=2.0**-40, rtol=0)

    rr = enc_pool.rerandomize(executor=pool)
    assert set(rr.ciphertexts.tolist()).isdisjoint(enc_pool.ciphertexts.tolist())
    np.testing.assert_array_equal(sk.decrypt(rr), sk.decrypt(enc_pool))

    inline = sk.decrypt(enc_pool.xt_dot(X))
    pooled = sk.decrypt(enc_pool.xt_dot(X, executor=pool))
    np.testing.assert_array_equal(pooled, inline)
    tol = 2.0**-25 * np.abs(d).sum() + 2.0**-40 * np.abs(X).sum(axis=0)
    assert np.all(np.abs(pooled - X.T @ d) <= tol)
    raw = np.array([3, 0, 2**pk.plaintext_bits - 1] * 50, dtype=object)
    got = sk.decrypt_int(pk.encrypt_int(raw, executor=pool), executor=pool)
    assert got.tolist() == raw.tolist()
