"""The OPRF of each crypto suite: blinded evaluation equals the key holder's direct PRF, the
blinded element hides the input, and an element off the group is refused."""

import numpy as np
import pytest

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.oprf_suite import oprf_for


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_blinded_evaluation_equals_the_direct_prf(suite):
    oprf = oprf_for(suite)
    key, other = oprf.generate_key(), oprf.generate_key()
    xs = [b"13800138000", b"zhang san", b""]
    state, blinded = oprf.blind(xs)
    assert blinded.shape == (3, oprf.element_bytes)
    out = oprf.unblind(state, oprf.evaluate(key, blinded))
    assert out == oprf.evaluate_direct(key, xs)
    assert len(out[0]) == oprf.output_bytes and len(set(out)) == 3
    assert oprf.evaluate_direct(other, xs) != out  # keyed
    # the same input blinds to a fresh element every time
    _, again = oprf.blind(xs)
    assert not np.array_equal(again, blinded)
    assert repr(state) == "Blinded(n=3)"


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_elements_off_the_group_are_refused(suite):
    oprf = oprf_for(suite)
    key = oprf.generate_key()
    bad = np.full((1, oprf.element_bytes), 0xFF, dtype=np.uint8)
    with pytest.raises(CryptoError):
        oprf.evaluate(key, bad)
    state, _ = oprf.blind([b"x"])
    with pytest.raises(CryptoError):
        oprf.unblind(state, bad)
    with pytest.raises(CryptoError):
        oprf.evaluate(key, np.zeros((1, 5), dtype=np.uint8))


def test_unknown_suite_is_a_config_error():
    with pytest.raises(ConfigError):
        oprf_for("rot13")
