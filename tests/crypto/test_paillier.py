"""Paillier layer: every operation against plaintext numpy, typed errors, key handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coalition.core.errors import ConfigError, CryptoError, EncodingOverflowError, InputError
from coalition.crypto.paillier import (
    EncryptedArray,
    InsecureKeyWarning,
    PaillierPrivateKey,
    PaillierPublicKey,
    concatenate,
    generate_keypair,
)

PREC = 40
ATOL = 2.0**-PREC  # encoding error is at most 2**-(PREC+1) per value

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
values = st.one_of(st.just(0.0), floats, st.floats(-1.0, 1.0))
shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5)


def arrays(shape: st.SearchStrategy[tuple[int, ...]] = shapes) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=values)


@pytest.fixture(scope="module")
def keys() -> tuple[PaillierPublicKey, PaillierPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


@pytest.fixture(scope="module")
def other_keys() -> tuple[PaillierPublicKey, PaillierPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


def close(got: np.ndarray, want: np.ndarray, atol: float = ATOL) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol)


# -- keys -------------------------------------------------------------------------------

def test_keypair_shape(keys):
    pk, sk = keys
    assert sk.public_key is pk
    assert pk.bits == 1024 and pk.n.bit_length() == 1024
    assert "p=" not in repr(sk) and str(int(sk._p)) not in repr(sk)
    assert not hasattr(pk, "decrypt") and not hasattr(EncryptedArray, "decrypt")


def test_small_keys_need_the_flag():
    with pytest.raises(ConfigError):
        generate_keypair(1024)
    with pytest.raises(ConfigError):
        generate_keypair(1000, allow_insecure=True)


def test_private_key_rejects_wrong_factors(keys):
    pk, sk = keys
    with pytest.raises(CryptoError):
        PaillierPrivateKey(pk, int(sk._p), int(sk._p))


# -- encryption and decryption ------------------------------------------------------------

@SETTINGS
@given(x=arrays())
def test_encrypt_decrypt_round_trip(keys, x):
    pk, sk = keys
    enc = pk.encrypt(x, precision=PREC)
    assert enc.shape == x.shape and enc.size == x.size and enc.scale_bits == PREC
    assert enc.is_masked
    close(sk.decrypt(enc), x)
    close(sk.decrypt(sk.encrypt(x, precision=PREC)), x)


def test_key_holder_and_public_paths_agree(keys):
    pk, sk = keys
    x = np.linspace(-3.0, 3.0, 40)  # >= SMALL_BATCH: exercises the fixed-base tables
    a, b = pk.encrypt(x), sk.encrypt(x)
    close(sk.decrypt(a), sk.decrypt(b), atol=0.0)
    assert set(a.ciphertexts.tolist()).isdisjoint(b.ciphertexts.tolist())


def test_scalars_ints_and_large_magnitudes(keys):
    pk, sk = keys
    assert sk.decrypt(pk.encrypt(2.5)).shape == ()
    close(sk.decrypt(pk.encrypt(2.5)), np.float64(2.5))
    ints = np.array([-(2**40), -1, 0, 7, 2**45], dtype=np.int64)
    close(sk.decrypt(pk.encrypt(ints)), ints.astype(np.float64), atol=0.0)
    big = np.array([1e15, -1e15, 123456789.125])
    close(sk.decrypt(sk.encrypt(big)), big)
    obj = np.array([3, -(2**70)], dtype=object)
    assert sk.decrypt(pk.encrypt(obj, precision=0)).tolist() == [3.0, float(-(2**70))]


def test_raw_integers(keys):
    pk, sk = keys
    n = int(pk.n)
    raw = np.array([0, 1, n // 2, n - 1], dtype=object)
    enc = pk.encrypt_int(raw)
    assert enc.scale_bits == 0
    assert sk.decrypt_int(enc).tolist() == raw.tolist()
    assert sk.decrypt_int(sk.encrypt_int(raw)).tolist() == raw.tolist()
    with pytest.raises(EncodingOverflowError):
        pk.encrypt_int([n])
    with pytest.raises(EncodingOverflowError):
        pk.encrypt_int([-1])
    with pytest.raises(InputError):
        pk.encrypt_int([1.5])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(keys, bad):
    pk, sk = keys
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(np.array([1.0, bad]))
    with pytest.raises(EncodingOverflowError):
        sk.encrypt(bad)


def test_overflow_on_encode_and_decode(keys):
    pk, sk = keys
    n = int(pk.n)
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(np.array([n // 3], dtype=object), precision=0)
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(1e300, precision=40)
    with pytest.raises(EncodingOverflowError):
        sk.decrypt(pk.encrypt_int([n // 2]))  # middle third: ambiguous
    near = pk.encrypt(np.array([n // 3 - 1], dtype=object), precision=0)
    with pytest.raises(EncodingOverflowError):
        sk.decrypt(near + near)


def test_non_numbers_are_refused(keys):
    pk, _ = keys
    with pytest.raises(InputError):
        pk.encrypt(np.array(["a"]))
    with pytest.raises(InputError):
        pk.encrypt(np.array([None], dtype=object))


def test_wrong_key_cannot_decrypt(keys, other_keys):
    pk, _ = keys
    _, other_sk = other_keys
    with pytest.raises(CryptoError):
        other_sk.decrypt(pk.encrypt([1.0]))
    with pytest.raises(CryptoError):
        other_sk.decrypt_int(pk.encrypt_int([1]))


# -- arithmetic -------------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), shape=shapes)
def test_add_sub_neg(keys, data, shape):
    pk, sk = keys
    x = data.draw(arrays(st.just(shape)))
    y = data.draw(arrays(st.just(shape)))
    ex, ey = pk.encrypt(x), sk.encrypt(y, precision=30)
    s = ex + ey
    assert s.scale_bits == PREC
    close(sk.decrypt(s), x + y, atol=2 * ATOL + 2.0**-30)
    close(sk.decrypt(ex - ey), x - y, atol=2 * ATOL + 2.0**-30)
    close(sk.decrypt(-ex), -x)
    close(sk.decrypt(ex + y), x + y, atol=2 * ATOL)
    close(sk.decrypt(y + ex), x + y, atol=2 * ATOL)
    close(sk.decrypt(ex - y), x - y, atol=2 * ATOL)
    close(sk.decrypt(y - ex), y - x, atol=2 * ATOL)
    close(sk.decrypt(ex + 1.5), x + 1.5, atol=2 * ATOL)


def test_broadcasting_of_plain_operand(keys):
    pk, sk = keys
    x = np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5
    ex = pk.encrypt(x)
    row = np.array([1.0, -2.0, 0.0, 3.25])
    close(sk.decrypt(ex + row), x + row, atol=2 * ATOL)
    col = pk.encrypt(np.array([[1.0], [2.0], [-3.0]]))
    close(sk.decrypt(col + row), np.array([[1.0], [2.0], [-3.0]]) + row, atol=2 * ATOL)
    close(sk.decrypt(col * row), np.array([[1.0], [2.0], [-3.0]]) * row, atol=1e-6)
    with pytest.raises(InputError):
        ex + np.ones(5)


@SETTINGS
@given(data=st.data(), shape=shapes)
def test_multiply_by_plaintext(keys, data, shape):
    pk, sk = keys
    x = data.draw(arrays(st.just(shape)))
    k = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100)))
    ex = pk.encrypt(x)
    prod = ex * k
    assert prod.scale_bits == PREC + 24
    # |x k - x' k'| <= |x| 2^-25 + |k| 2^-41 + tiny
    tol = np.abs(x) * 2.0**-25 + np.abs(k) * ATOL + 1e-9
    assert np.all(np.abs(sk.decrypt(prod) - x * k) <= tol)
    fine = ex.mul(k, precision=40)
    assert fine.scale_bits == 2 * PREC
    assert np.all(np.abs(sk.decrypt(fine) - x * k) <= np.abs(x) * ATOL + np.abs(k) * ATOL + 1e-9)


def test_integer_multipliers_are_exact(keys):
    pk, sk = keys
    x = np.array([1.5, -2.0, 0.25, 7.0])
    ex = pk.encrypt(x)
    ints = np.array([3, -4, 0, 2**20], dtype=np.int64)
    out = ex * ints
    assert out.scale_bits == PREC and out.is_masked
    close(sk.decrypt(out), x * ints, atol=0.0)
    close(sk.decrypt(ex * -3), x * -3, atol=0.0)
    close(sk.decrypt(2 * ex), x * 2, atol=0.0)
    zero = ex * 0
    assert zero.is_masked and len(set(zero.ciphertexts.tolist())) == 4  # fresh [[0]]s, not 1
    close(sk.decrypt(zero), np.zeros(4), atol=0.0)
    with pytest.raises(TypeError):
        ex * ex
    with pytest.raises(InputError):
        ex.mul(ex)


def test_mixed_keys_are_refused(keys, other_keys):
    a = keys[0].encrypt([1.0])
    b = other_keys[0].encrypt([1.0])
    with pytest.raises(CryptoError):
        a + b
    with pytest.raises(CryptoError):
        concatenate([a, b])


# -- reductions -------------------------------------------------------------------------

@SETTINGS
@given(x=arrays(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6)))
def test_sums(keys, x):
    pk, sk = keys
    ex = pk.encrypt(x)
    close(sk.decrypt(ex.sum()), np.float64(x.sum()), atol=x.size * ATOL)
    close(sk.decrypt(ex.sum(axis=0)), x.sum(axis=0), atol=x.shape[0] * ATOL)
    close(sk.decrypt(ex.sum(axis=1)), x.sum(axis=1), atol=x.shape[1] * ATOL)
    with pytest.raises(InputError):
        ex.sum(axis=2)


@SETTINGS
@given(data=st.data(), n=st.integers(1, 30), groups=st.integers(1, 6))
def test_group_sum(keys, data, n, groups):
    pk, sk = keys
    x = data.draw(hnp.arrays(np.float64, (n, 2), elements=values))
    ids = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, groups - 1)))
    out = pk.encrypt(x).group_sum(ids, groups)
    want = np.zeros((groups, 2))
    np.add.at(want, ids, x)
    assert out.shape == (groups, 2) and out.is_masked
    close(sk.decrypt(out), want, atol=n * ATOL)
    flat = pk.encrypt(x[:, 0]).group_sum(ids, groups)
    close(sk.decrypt(flat), want[:, 0], atol=n * ATOL)


def test_group_sum_validates_ids(keys):
    ex = keys[0].encrypt(np.ones(3))
    with pytest.raises(InputError):
        ex.group_sum(np.array([0, 1, 3]), 3)
    with pytest.raises(InputError):
        ex.group_sum(np.array([0, 1]), 3)
    with pytest.raises(InputError):
        ex.group_sum(np.array([0.0, 1.0, 2.0]), 3)


@SETTINGS
@given(data=st.data(), n=st.integers(1, 40), f=st.integers(1, 4))
def test_xt_dot(keys, data, n, f):
    pk, sk = keys
    d = data.draw(hnp.arrays(np.float64, (n,), elements=values))
    X = data.draw(hnp.arrays(np.float64, (n, f), elements=st.one_of(st.just(0.0), floats)))
    out = pk.encrypt(d).xt_dot(X)
    assert out.shape == (f,) and out.scale_bits == PREC + 24 and out.is_masked
    # documented bound: 2^-25 Σ|d| from X's encoding, plus d's own encoding error times Σ|X|,
    # plus the float64 rounding of the reference X.T @ d itself (found by hypothesis:
    # d = 91899.375, X = 5834.5421482 exceeded the bound by 1e-8)
    tol = (2.0**-25 * np.abs(d).sum() + ATOL * np.abs(X).sum(axis=0)
           + 2.0**-50 * (np.abs(X).T @ np.abs(d)) + 1e-9)
    assert np.all(np.abs(sk.decrypt(out) - X.T @ d) <= tol)


def test_xt_dot_exact_integers_and_zero_columns(keys):
    pk, sk = keys
    d = np.array([1.5, -2.0, 3.0, 0.5])
    X = np.array([[1, 0, -7], [2, 0, 5], [-3, 0, 0], [4, 0, 1]], dtype=np.int64)
    out = pk.encrypt(d).xt_dot(X)
    assert out.scale_bits == PREC
    close(sk.decrypt(out), X.T @ d, atol=0.0)
    assert out.ciphertexts[1] != 1  # an all-zero column still yields a masked [[0]]
    with pytest.raises(InputError):
        pk.encrypt(d).xt_dot(np.ones((3, 2)))


# -- shape handling ---------------------------------------------------------------------

def test_indexing_and_shapes(keys):
    pk, sk = keys
    x = np.arange(12, dtype=np.float64).reshape(3, 4) / 4 - 1
    ex = pk.encrypt(x)
    assert len(ex) == 3 and ex.ndim == 2
    close(sk.decrypt(ex[1]), x[1])
    close(sk.decrypt(ex[:, 2]), x[:, 2])
    close(sk.decrypt(ex[[2, 0]]), x[[2, 0]])
    close(sk.decrypt(ex[x > 0]), x[x > 0])
    assert ex[1, 2].shape == ()
    close(sk.decrypt(ex[1, 2]), np.float64(x[1, 2]))
    close(sk.decrypt(ex.ravel()), x.ravel())
    close(sk.decrypt(ex.reshape(4, 3)), x.reshape(4, 3))
    lo = pk.encrypt(np.array([[9.0, 8.0, 7.0, 6.0]]), precision=20)
    joined = EncryptedArray.concatenate([ex, lo])
    assert joined.scale_bits == PREC
    close(sk.decrypt(joined), np.vstack([x, [[9.0, 8.0, 7.0, 6.0]]]))
    with pytest.raises(InputError):
        concatenate([ex, pk.encrypt(np.ones(3))])
    with pytest.raises(InputError):
        concatenate([])


def test_rerandomize_changes_ciphertexts_not_plaintexts(keys):
    pk, sk = keys
    x = np.array([0.0, -1.25, 3.5])
    ex = pk.encrypt(x)
    rr = ex.rerandomize()
    assert rr.is_masked and rr.scale_bits == ex.scale_bits
    assert set(rr.ciphertexts.tolist()).isdisjoint(ex.ciphertexts.tolist())
    close(sk.decrypt(rr), x)
    plain = pk.encrypt(x, rerandomize=False)
    assert not plain.is_masked
    assert plain.ciphertexts.tolist() == [(1 + m * pk.n) % pk.nsquare
                                          for m in [0, int(pk.n) - 5 * 2**38, 7 * 2**39]]
    masked = plain.rerandomize()
    assert masked.is_masked
    close(sk.decrypt(masked), x)
    assert not (plain + 1.0).is_masked and (plain + ex).is_masked


@pytest.mark.slow
@pytest.mark.parametrize("bits", [2048, 3072])
def test_production_key_sizes(bits):
    pk, sk = generate_keypair() if bits == 2048 else generate_keypair(bits)
    assert pk.bits == bits
    x = np.array([-1.5, 0.0, 2.0**20 + 0.25])
    close(sk.decrypt(pk.encrypt(x)), x)
    close(sk.decrypt(sk.encrypt(x) * 3 + 1.0), 3 * x + 1.0, atol=4 * ATOL)
