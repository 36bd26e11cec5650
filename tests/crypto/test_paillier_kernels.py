"""Paillier kernels: the batch fixed-base exponentiation and the table-building policy."""

from __future__ import annotations

import secrets

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _textbook_decrypt(c: int, p: int, q: int) -> int:
    """Paillier's decryption without CRT: ``L(c^λ mod n²) · μ mod n`` (EUROCRYPT 1999, §3)."""
    n = p * q
    n2 = n * n
    lam = (p - 1) * (q - 1) // int(gmpy2.gcd(p - 1, q - 1))
    mu = int(gmpy2.invert((int(gmpy2.powmod(n + 1, lam, n2)) - 1) // n, n))
    return (int(gmpy2.powmod(c, lam, n2)) - 1) // n * mu % n


def test_crt_decryption_equals_textbook_decryption(keys_1024):
    import numpy as np

    pk, sk = keys_1024
    p, q = int(sk._p), int(sk._q)
    n = int(pk.n)
    # raw plaintexts: edges of Z_n and of the signed-decoding thirds, and random ones
    edges = [0, 1, 2, n - 1, n - 2, n // 3, n - n // 3, p, q]
    raw = edges + [secrets.randbelow(n) for _ in range(40)]
    enc = sk.encrypt_int(np.array(raw, dtype=object))
    cs = enc.ciphertexts.tolist()
    got = kernels.decrypt_chunk(kernels.DecryptTask(p, q, cs))
    assert got == [_textbook_decrypt(int(c), p, q) for c in cs] == raw
    # ciphertexts as plain Python ints (as a peer's bytes decode) give the same plaintexts
    assert kernels.decrypt_chunk(kernels.DecryptTask(p, q, [int(c) for c in cs])) == raw
    assert sk.decrypt_int(enc).tolist() == raw

    # signed fixed-point values, before and after homomorphic arithmetic
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(size=30) * 1e3, [-0.0, -1e-9, 2.0**-40, -(2.0**60)]])
    fx = pk.encrypt(x)
    for arr, want in ((fx, x), (fx + fx, 2 * x), (fx * -3, -3 * x), (-fx, -x)):
        ints = [_textbook_decrypt(int(c), p, q) for c in arr.ciphertexts.tolist()]
        signed = np.array([(m - n if m > n // 2 else m) for m in ints], dtype=np.float64)
        reference = signed / 2.0**arr.scale_bits
        np.testing.assert_array_equal(sk.decrypt(arr), reference)
        np.testing.assert_allclose(reference, want, rtol=1e-12, atol=2.0**-38)


def test_crt_decryption_of_packed_slots(keys_1024):
    import numpy as np

    pk, sk = keys_1024
    p, q = int(sk._p), int(sk._q)
    slot_bits, slots = 120, 8  # 960 bits of a 1024-bit plaintext space
    rows = [[secrets.randbits(slot_bits - 1) for _ in range(slots)] for _ in range(12)]
    packed = [sum(v << (slot_bits * i) for i, v in enumerate(row)) for row in rows]
    enc = pk.encrypt_int(np.array(packed, dtype=object))
    summed = enc + enc  # slot sums stay below 2**slot_bits: no carry between slots
    for arr, factor in ((enc, 1), (summed, 2)):
        cs = arr.ciphertexts.tolist()
        got = sk.decrypt_int(arr).tolist()
        assert got == [_textbook_decrypt(int(c), p, q) for c in cs]
        unpacked = [[(m >> (slot_bits * i)) & ((1 << slot_bits) - 1) for i in range(slots)]
                    for m in got]
        assert unpacked == [[factor * v for v in row] for row in rows]


# -- the key holder's short randomisers (its own encryptions, seen only by other parties) ----

_raw_plaintexts = st.lists(st.integers(min_value=0, max_value=2**1000), min_size=1, max_size=30)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ms=_raw_plaintexts, k=st.integers(min_value=-5, max_value=5))
def test_short_randomisers_decrypt_and_compute_like_integers(keys_1024, ms, k):
    import numpy as np

    pk, sk = keys_1024
    n = int(pk.n)
    arr = np.array(ms, dtype=object)
    short = sk.encrypt_int(arr, short_randomness=True)
    assert short.is_masked and short.scale_bits == 0
    assert sk.decrypt_int(short).tolist() == ms
    assert sk.decrypt_int(sk.encrypt_int(arr)).tolist() == ms  # full-length path, same values
    other = pk.encrypt_int(arr[::-1].copy())
    want = [(a + b) % n for a, b in zip(ms, ms[::-1], strict=True)]
    assert sk.decrypt_int(short + other).tolist() == want
    assert sk.decrypt_int(short * k).tolist() == [a * k % n for a in ms]
    # fixed point through the same kernel: numpy's sums within the encoding error
    x = np.array([m / 2**990 - 0.5 for m in ms])
    ex = sk.encrypt(x) + sk.encrypt_int(np.zeros(len(ms), dtype=np.int64), short_randomness=True)
    np.testing.assert_allclose(sk.decrypt(ex), x, atol=2.0**-40, rtol=0)


def test_short_randomiser_is_a_256_bit_djn_exponent_by_crt(keys_1024, monkeypatch):
    import numpy as np

    pk, sk = keys_1024
    n, n2, hs = int(pk.n), int(pk.nsquare), int(pk.hs)
    ms = [0, 1, 5, n - 1] + [secrets.randbelow(n) for _ in range(40)]  # >= SMALL_BATCH: tables
    drawn: list[bytes] = []
    token_bytes = secrets.token_bytes

    def recording(size: int) -> bytes:
        out = token_bytes(size)
        drawn.append(out)
        return out

    monkeypatch.setattr(kernels.secrets, "token_bytes", recording)
    enc = sk.encrypt_int(np.array(ms, dtype=object), short_randomness=True)
    assert len(drawn) == 1 and len(drawn[0]) == kernels.SHORT_RANDOM_BITS // 8 * len(ms)
    nb = kernels.SHORT_RANDOM_BITS // 8
    a = [int.from_bytes(drawn[0][i * nb:(i + 1) * nb], "little") for i in range(len(ms))]
    want = [(1 + m * n) * int(gmpy2.powmod(hs, e, n2)) % n2 for m, e in zip(ms, a, strict=True)]
    assert enc.ciphertexts.tolist() == want
    # the public path and the default key-holder path keep the full-length exponent
    drawn.clear()
    pk.encrypt_int(np.array(ms, dtype=object))
    sk.encrypt_int(np.array(ms, dtype=object))
    assert [len(d) for d in drawn] == [kernels.exponent_bytes(n) * len(ms)] * 2


def test_short_randomisers_are_fresh_per_encryption(keys_1024):
    import numpy as np

    pk, sk = keys_1024
    zeros = np.zeros(64, dtype=np.int64)
    first = sk.encrypt_int(zeros, short_randomness=True).ciphertexts.tolist()
    second = sk.encrypt_int(zeros, short_randomness=True).ciphertexts.tolist()
    assert len(set(first + second)) == 128 and 1 not in first
    assert sk.decrypt_int(sk.encrypt_int(zeros, short_randomness=True)).tolist() == [0] * 64
    assert not hasattr(pk, "decrypt_int")
    with pytest.raises(TypeError):
        pk.encrypt_int(zeros, short_randomness=True)  # type: ignore[call-arg]
