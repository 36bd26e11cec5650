"""One contract, both additive schemes (Paillier and Okamoto–Uchiyama) via ``crypto.he``.

Whatever a protocol may rely on through :mod:`coalition.crypto.he` is checked here against
numpy for each scheme: fixed-point encrypt/decrypt, addition, plaintext multiplication, sums,
``xt_dot``, packing of signed slots in ``plaintext_bits`` with ``ciphertext_modulus``
arithmetic, and the wire codec.
"""

from __future__ import annotations

import warnings

import gmpy2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coalition.core import codec
from coalition.core.errors import ConfigError, EncodingOverflowError
from coalition.crypto import he
from coalition.crypto.paillier import DEFAULT_MUL_PRECISION, InsecureKeyWarning

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module", params=he.HE_SCHEMES)
def keys(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        return he.generate_keypair(request.param, 1024, allow_insecure=True)


def test_keys_state_their_scheme_and_numbers(keys):
    pk, sk = keys
    assert he.is_public_key(pk) and not he.is_public_key(sk)
    assert sk.public_key == pk and pk.bits == 1024
    scheme = he.scheme_of(pk)
    # the ring ciphertexts live in, and the plaintext space packing may fill
    expected_ring_bits = 2048 if scheme == "paillier" else 1024
    assert abs(pk.ciphertext_modulus.bit_length() - expected_ring_bits) <= 1
    assert 300 < pk.plaintext_bits < pk.bits and pk.signed_limit < 1 << pk.plaintext_bits
    with pytest.raises(ConfigError):
        he.generate_keypair("rsa", 2048)  # type: ignore[arg-type]


@SETTINGS
@given(data=st.data(), n=st.integers(1, 6))
def test_add_scale_and_sum_match_numpy(keys, data, n):
    pk, sk = keys
    a = data.draw(hnp.arrays(np.float64, n, elements=floats))
    b = data.draw(hnp.arrays(np.float64, n, elements=floats))
    k = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-100, 100)))
    ea, eb = pk.encrypt(a), pk.encrypt(b)
    np.testing.assert_allclose(sk.decrypt(ea + eb), a + b, atol=1e-6)
    np.testing.assert_allclose(sk.decrypt(ea - b), a - b, atol=1e-6)
    # the multiplier is fixed point too: error up to |a|·2^-(P+1) (``encoding``)
    err = np.abs(sk.decrypt(ea * k) - a * k)
    assert (err <= 1e-6 + np.abs(a) * 2.0 ** -DEFAULT_MUL_PRECISION).all()
    np.testing.assert_allclose(sk.decrypt(ea.sum()), a.sum(), atol=1e-5)


@SETTINGS
@given(data=st.data(), n=st.integers(1, 8), f=st.integers(1, 3))
def test_xt_dot_matches_numpy(keys, data, n, f):
    pk, sk = keys
    d = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-10, 10)))
    X = data.draw(hnp.arrays(np.float64, (n, f), elements=st.floats(-10, 10)))
    np.testing.assert_allclose(sk.decrypt(pk.encrypt(d).xt_dot(X)), X.T @ d, atol=1e-3)


@SETTINGS
@given(data=st.data(), slot=st.integers(8, 64))
def test_packed_signed_slots_read_back_exactly(keys, data, slot):
    """Horner packing in the exponent with raw ring arithmetic, as hosts do."""
    pk, sk = keys
    slots = (pk.plaintext_bits - 1) // slot
    half = 1 << (slot - 2)
    vals = data.draw(st.lists(st.integers(-half, half - 1), min_size=1, max_size=slots))
    cts = pk.encrypt(vals, precision=0).ciphertexts.tolist()
    ring, acc = pk.ciphertext_modulus, gmpy2.mpz(1)
    for c in reversed(cts):
        acc = gmpy2.powmod(acc, 1 << slot, ring) * c % ring
    packed = he.from_ciphertexts(pk, np.array([acc], dtype=object), 0, masked=True)
    v = int(sk.decrypt_signed_int(packed)[0])
    out = []
    for _ in vals:
        s = v & ((1 << slot) - 1)
        s -= (1 << slot) if s >> (slot - 1) else 0
        out.append(s)
        v = (v - s) >> slot
    assert out == vals


def test_values_past_the_signed_limit_are_refused(keys):
    pk, _ = keys
    with pytest.raises(EncodingOverflowError):
        pk.encrypt([pk.signed_limit], precision=0)


def test_wire_round_trip_keeps_scheme_key_and_values(keys):
    pk, sk = keys
    x = np.array([1.5, -2.25, 0.0])
    back = codec.decode(codec.encode({"key": pk, "x": pk.encrypt(x)}))
    assert back["key"] == pk and he.scheme_of(back["key"]) == he.scheme_of(pk)
    assert isinstance(back["x"], he.EncryptedArray)
    np.testing.assert_allclose(sk.decrypt(back["x"]), x)
    rewrapped = he.from_ciphertexts(pk, back["x"].ciphertexts, back["x"].scale_bits, masked=True)
    np.testing.assert_allclose(sk.decrypt(rewrapped + back["x"]), 2 * x)


@SETTINGS
@given(data=st.data(), n=st.integers(1, 40))
def test_key_holders_short_randomisers_match_numpy_and_are_fresh(keys, data, n):
    """The key holder's own encryptions with 256-bit randomisers (SecureBoost gradients, HE-LR
    values sent to parties without the key) decrypt like every other path."""
    pk, sk = keys
    a = data.draw(hnp.arrays(np.float64, n, elements=floats))
    b = data.draw(hnp.arrays(np.float64, n, elements=floats))
    ea = sk.encrypt(a, short_randomness=True)
    assert ea.is_masked
    np.testing.assert_allclose(sk.decrypt(ea), a, atol=1e-9)
    np.testing.assert_allclose(sk.decrypt(ea + pk.encrypt(b)), a + b, atol=1e-6)
    again = sk.encrypt(a, short_randomness=True)
    assert set(again.ciphertexts.tolist()).isdisjoint(ea.ciphertexts.tolist())
    ints = np.arange(n, dtype=np.int64)
    assert sk.decrypt_int(sk.encrypt_int(ints, short_randomness=True)).tolist() == ints.tolist()
