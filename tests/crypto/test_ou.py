"""Okamoto–Uchiyama layer: every operation against plaintext numpy, typed errors, key custody.

The arithmetic tests mirror ``test_paillier.py`` so both schemes meet one contract.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coalition.core import codec
from coalition.core.errors import ConfigError, CryptoError, EncodingOverflowError, InputError
from coalition.crypto.ou import (
    EncryptedArray,
    InsecureKeyWarning,
    OUPrivateKey,
    OUPublicKey,
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
def keys() -> tuple[OUPublicKey, OUPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


@pytest.fixture(scope="module")
def other_keys() -> tuple[OUPublicKey, OUPrivateKey]:
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024, allow_insecure=True)


def close(got: np.ndarray, want: np.ndarray, atol: float = ATOL) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol)


# -- keys -------------------------------------------------------------------------------

def test_keypair_shape(keys):
    pk, sk = keys
    p, q = int(sk._p), int(sk._q)
    assert sk.public_key is pk
    assert pk.bits == 1024 and p * p * q == int(pk.n)
    assert p.bit_length() == q.bit_length() == 342 and pk.plaintext_bits == 341
    assert pow(int(pk.g), int(pk.n), int(pk.n)) == int(pk.h)
    assert pow(int(pk.g), p - 1, p * p) != 1  # g^(p-1) mod p² has order p
    assert pk.ciphertext_modulus == pk.n
    assert all(0 < int(c) < int(pk.n) for c in pk.encrypt(np.ones(5)).ciphertexts.tolist())


def test_custody_public_objects_cannot_decrypt_and_reprs_hide_secrets(keys):
    pk, sk = keys
    enc = pk.encrypt([1.0])
    for obj in (pk, enc):
        assert not hasattr(obj, "decrypt") and not hasattr(obj, "decrypt_int")
    assert not hasattr(OUPublicKey, "decrypt") and not hasattr(EncryptedArray, "decrypt")
    secrets_ = [str(int(sk._p)), str(int(sk._q)), hex(int(sk._p))[2:], hex(int(sk._q))[2:],
                str(int(pk.g)), str(int(pk.n))]
    for text in (repr(sk), str(sk), repr(pk), repr(enc)):
        assert not any(s in text for s in secrets_)
    assert repr(sk) == "OUPrivateKey(bits=1024)"


def test_small_keys_need_the_flag():
    with pytest.raises(ConfigError):
        generate_keypair(1024)
    with pytest.raises(ConfigError):
        generate_keypair(1000, allow_insecure=True)


def test_private_key_rejects_wrong_factors(keys):
    pk, sk = keys
    with pytest.raises(CryptoError):
        OUPrivateKey(pk, int(sk._p), int(sk._p))
    with pytest.raises(CryptoError):
        OUPrivateKey(pk, int(sk._q), int(sk._p))  # q²p is not n
    with pytest.raises(CryptoError):
        OUPublicKey(int(pk.n), int(pk.g), int(pk.h) + 1)  # h must be g^n mod n


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


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(keys, bad):
    pk, sk = keys
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(np.array([1.0, bad]))
    with pytest.raises(EncodingOverflowError):
        sk.encrypt(bad)


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
    # plus the float64 rounding of the reference X.T @ d itself (as in test_paillier)
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




# -- Okamoto–Uchiyama specifics: plaintext space [0, p) ------------------------------------

def test_boundary_values_round_trip(keys):
    pk, sk = keys
    top = 2**pk.plaintext_bits - 1
    raw = np.array([0, 1, 2**64, top - 1, top], dtype=object)
    assert sk.decrypt_int(pk.encrypt_int(raw)).tolist() == raw.tolist()
    lim = pk.signed_limit - 1
    signed = np.array([-lim, -1, 0, 1, lim], dtype=object)
    assert sk.decrypt(pk.encrypt(signed, precision=0)).tolist() == [float(v) for v in signed]


@SETTINGS
@given(a=st.integers(-(2**339), 2**339), b=st.integers(-(2**339), 2**339))
def test_signed_integers_read_back_centred_for_packing(keys, a, b):
    pk, sk = keys
    enc = pk.encrypt(np.array([a, b], dtype=object), precision=0)
    assert sk.decrypt_signed_int(enc).tolist() == [a, b]
    assert sk.decrypt_signed_int(enc.sum()).tolist() == a + b  # |a + b| < 2^340 < p/2
    hi, lo = a >> 172, b >> 172  # two signed slots of < 170 bits, packed Horner-style
    slots = pk.encrypt(np.array([hi, lo], dtype=object), precision=0)
    packed = slots[0:1] * 2**170 + slots[1:2]
    assert sk.decrypt_signed_int(packed).tolist() == [hi * 2**170 + lo]


def test_raw_integers_outside_the_plaintext_space_are_refused(keys):
    pk, _ = keys
    with pytest.raises(EncodingOverflowError):
        pk.encrypt_int([2**pk.plaintext_bits])
    with pytest.raises(EncodingOverflowError):
        pk.encrypt_int([-1])
    with pytest.raises(InputError):
        pk.encrypt_int([1.5])


def test_overflow_on_encode_add_and_decode(keys):
    pk, sk = keys
    lim = pk.signed_limit
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(np.array([lim], dtype=object), precision=0)
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(np.array([-lim], dtype=object), precision=0)
    with pytest.raises(EncodingOverflowError):
        pk.encrypt(1e300, precision=40)
    ex = pk.encrypt(np.array([1.0]))
    with pytest.raises(EncodingOverflowError):
        ex + np.array([lim], dtype=object)
    p = int(sk._p)
    with pytest.raises(EncodingOverflowError):  # the middle third of [0, p) is ambiguous
        sk.decrypt(pk.encrypt_int([p // 2]))
    near = pk.encrypt(np.array([lim - 1], dtype=object), precision=0)
    with pytest.raises(EncodingOverflowError):
        sk.decrypt(near + near)  # 2·lim/p lies in (1/3, 2/3) since 2^341 < p < 2^342


@SETTINGS
@given(a=st.integers(-(2**200), 2**200), b=st.integers(-(2**200), 2**200),
       k=st.integers(-(2**100), 2**100))
def test_homomorphic_laws_are_exact_mod_p(keys, a, b, k):
    pk, sk = keys
    ea, eb = pk.encrypt_int([0]), pk.encrypt(np.array([a, b], dtype=object), precision=0)
    assert ea.is_masked
    x, y = eb[0:1], eb[1:2]
    p = int(sk._p)
    assert sk.decrypt_int(x + y).tolist() == [(a + b) % p]
    assert sk.decrypt_int(x - y).tolist() == [(a - b) % p]
    assert sk.decrypt_int(-x).tolist() == [(-a) % p]
    assert sk.decrypt_int(x * k).tolist() == [(a * k) % p]
    assert sk.decrypt_int(x * k + y * k).tolist() == sk.decrypt_int((x + y) * k).tolist()
    assert sk.decrypt_int(x + ea).tolist() == [a % p]


def test_rerandomize_changes_ciphertexts_not_plaintexts(keys):
    pk, sk = keys
    x = np.array([0.0, -1.25, 3.5])
    ex = pk.encrypt(x)
    for rr in (ex.rerandomize(), ex.rerandomize(uniform=True)):
        assert rr.is_masked and rr.scale_bits == ex.scale_bits
        assert set(rr.ciphertexts.tolist()).isdisjoint(ex.ciphertexts.tolist())
        close(sk.decrypt(rr), x)
    plain = pk.encrypt(x, rerandomize=False)
    assert not plain.is_masked
    g, n = int(pk.g), int(pk.n)
    assert plain.ciphertexts.tolist() == [pow(g, m, n) for m in [0, -5 * 2**38, 7 * 2**39]]
    assert plain.rerandomize().is_masked
    close(sk.decrypt(plain.rerandomize()), x)
    assert not (plain + 1.0).is_masked and (plain + ex).is_masked


def test_key_holder_and_public_paths_agree(keys):
    pk, sk = keys
    x = np.linspace(-3.0, 3.0, 40)
    a, b = pk.encrypt(x), sk.encrypt(x)
    close(sk.decrypt(a), sk.decrypt(b), atol=0.0)
    assert set(a.ciphertexts.tolist()).isdisjoint(b.ciphertexts.tolist())


def test_codec_round_trip_through_the_crypto_package(keys):
    pk, sk = keys
    x = np.arange(6, dtype=np.float64).reshape(2, 3) - 2.5
    back = codec.decode(codec.encode({"key": pk, "x": pk.encrypt(x)}))
    assert back["key"] is pk and back["x"].shape == (2, 3)
    close(sk.decrypt(back["x"]), x)


@pytest.mark.slow
@pytest.mark.parametrize("bits", [2048, 3072])
def test_production_key_sizes(bits):
    pk, sk = generate_keypair() if bits == 2048 else generate_keypair(bits)
    assert pk.bits == bits and int(sk._p).bit_length() == -(-bits // 3)
    x = np.array([-1.5, 0.0, 2.0**20 + 0.25])
    close(sk.decrypt(pk.encrypt(x)), x)
    close(sk.decrypt(sk.encrypt(x) * 3 + 1.0), 3 * x + 1.0, atol=4 * ATOL)


def test_key_holder_crt_path_gives_the_public_paths_ciphertexts(keys, monkeypatch):
    """Same r in, same ciphertext out: the CRT path changes the cost, not the distribution."""
    from coalition.crypto.ou import kernels

    pk, sk = keys
    x = np.array([-2.5, 0.0, 1e6, 3.25])
    fixed = bytes(range(256)) * 64
    monkeypatch.setattr(kernels.secrets, "token_bytes", lambda k: fixed[:k])
    assert sk.encrypt(x).ciphertexts.tolist() == pk.encrypt(x).ciphertexts.tolist()
    raw = np.array([0, 5, 2**pk.plaintext_bits - 1], dtype=object)
    assert sk.encrypt_int(raw).ciphertexts.tolist() == pk.encrypt_int(raw).ciphertexts.tolist()


def test_schemes_do_not_mix(keys):
    from coalition.crypto import paillier

    pk, sk = keys
    with pytest.warns(InsecureKeyWarning):
        ppk, psk = paillier.generate_keypair(1024, allow_insecure=True)
    a, b = pk.encrypt([1.0]), ppk.encrypt([1.0])
    for bad in (lambda: a + b, lambda: b + a, lambda: a * b, lambda: concatenate([a, b])):
        with pytest.raises((InputError, CryptoError)):
            bad()
    with pytest.raises(InputError):
        psk.decrypt(a)
    with pytest.raises(InputError):
        sk.decrypt(b)
