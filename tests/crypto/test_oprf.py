import numpy as np
import pytest

from coalition.core.errors import CryptoError
from coalition.crypto import oprf

INPUTS = [b"alice", b"bob", b"", "ü".encode()]


def test_blind_evaluate_unblind_round_trip_equals_direct_prf():
    key = oprf.OprfServerKey.generate()
    state, blinded = oprf.blind(INPUTS)
    out = oprf.unblind_finalize(state, key.evaluate(blinded))
    assert out == key.evaluate_direct(INPUTS)
    assert all(len(y) == oprf.OUTPUT_BYTES for y in out)


def test_blinding_hides_input_and_is_fresh():
    key = oprf.OprfServerKey.generate()
    _, b1 = oprf.blind([b"alice"])
    _, b2 = oprf.blind([b"alice"])
    assert not np.array_equal(b1, b2)
    assert key.evaluate_direct([b"alice"]) != oprf.OprfServerKey.generate().evaluate_direct([b"alice"])


def test_server_refuses_invalid_elements_and_client_checks_count():
    key = oprf.OprfServerKey.generate()
    with pytest.raises(CryptoError):
        key.evaluate(np.zeros((1, 32), dtype=np.uint8))
    state, blinded = oprf.blind(INPUTS)
    with pytest.raises(CryptoError):
        oprf.unblind_finalize(state, key.evaluate(blinded)[:2])


def test_key_round_trip_and_secret_repr():
    key = oprf.OprfServerKey.generate()
    again = oprf.OprfServerKey(key.to_bytes())
    assert again.evaluate_direct([b"x"]) == key.evaluate_direct([b"x"])
    assert "secret" in repr(key)
    assert "alice" not in repr(oprf.blind([b"alice"])[0])
