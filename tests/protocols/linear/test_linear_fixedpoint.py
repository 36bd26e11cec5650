import numpy as np
import pytest

from coalition.core.errors import EncodingOverflowError
from coalition.protocols.linear.fixedpoint import decode, encode, mul_public, truncate
from coalition.protocols.linear.ss.correlated import Purpose, ShareStream

F = 14


def share(x: np.ndarray, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    r = ShareStream(seed).ring(Purpose.A, 0, shape=x.shape)
    return x - r, r


def test_encode_decode_roundtrip():
    x = np.array([0.0, 1.5, -2.25, 1234.5678, -0.00006])
    assert np.allclose(decode(encode(x, F), F), x, atol=2.0**-F)


def test_encode_refuses_nan_and_overflow():
    with pytest.raises(EncodingOverflowError):
        encode([np.nan], F)
    with pytest.raises(EncodingOverflowError):
        encode([2.0**60], F)


def test_truncation_error_is_one_ulp():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 100, 20_000)
    prod = encode(x, 2 * F)  # a product carries 2F fractional bits
    s0, s1 = share(prod)
    got = decode(truncate(s0, F, 0) + truncate(s1, F, 1), F)
    assert np.max(np.abs(got - x)) <= 2.0 ** -(F - 1)


def test_mul_public_scalar_and_vector():
    x = np.array([3.0, -7.5, 0.25, 100.0])
    s0, s1 = share(encode(x, F))
    for c in (1 / 240, 0.9, 0.15, np.array([0.01, 0.0, 2.0, -0.5])):
        got = decode(mul_public(s0, c, 0) + mul_public(s1, c, 1), F)
        assert np.allclose(got, x * c, atol=3 * 2.0**-F, rtol=2.0**-15)


def test_share_stream_is_deterministic_and_domain_separated():
    a = ShareStream(7).ring(Purpose.V, 1, 2, shape=(5,))
    assert np.array_equal(a, ShareStream(7).ring(Purpose.V, 1, 2, shape=(5,)))
    assert not np.array_equal(a, ShareStream(7).ring(Purpose.VT, 1, 2, shape=(5,)))
    assert not np.array_equal(a, ShareStream(8).ring(Purpose.V, 1, 2, shape=(5,)))
