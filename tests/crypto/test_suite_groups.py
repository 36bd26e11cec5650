"""The suite's prime-order groups behind OT and OPRF: the SM2 group (``sm``) does what the
edwards25519 subgroup (``standard``) does, and an element of one is refused by the other."""

import numpy as np
import pytest

from coalition.core import Party
from coalition.core.errors import CryptoError, InputError
from coalition.crypto import oprf
from coalition.crypto.ot import ot_receive, ot_send, random_bits, random_ot_receive, random_ot_send
from coalition.crypto.sm import group as sm_group
from coalition.crypto.suite import primitives
from coalition.testing import PartyFailure, run_parties

S, R = Party.guest(), Party.host("r")
SUITES = ["standard", "sm"]


def test_sm2_group_laws():
    g = sm_group
    a, b = g.random_scalar(), g.random_scalar()
    pa, pb = g.scalarmult_base(a), g.scalarmult_base(b)
    assert g.scalarmult(b, pa) == g.scalarmult(a, pb)
    assert g.sub(g.add(pa, pb), pb) == pa
    assert g.scalarmult(g.scalar_invert(a), pa) == g.scalarmult_base(bytes(31) + b"\x01")
    h = g.hash_to_group(b"alice", b"dst")
    assert g.is_valid_point(h) and h != g.hash_to_group(b"alice", b"other-dst")
    bad = np.frombuffer(bytes([2]) + b"\xff" * 32, dtype=np.uint8).reshape(1, 33)
    with pytest.raises(CryptoError):
        g.validate_points(bad)


@pytest.mark.parametrize("suite", SUITES)
def test_random_and_chosen_message_ot(suite):
    choices = random_bits(64)
    out = run_parties({S: lambda ctx: random_ot_send(ctx, R, 64, suite=suite),
                       R: lambda ctx: random_ot_receive(ctx, S, choices, suite=suite)},
                      timeout=30)
    k0, k1 = out[S]
    assert np.array_equal(out[R], np.where(choices[:, None], k1, k0))
    assert not np.any(np.all(out[R] == np.where(choices[:, None], k0, k1), axis=1))
    m0 = np.arange(64 * 8, dtype=np.uint8).reshape(64, 8)
    m1 = m0 ^ 0x5A
    got = run_parties({S: lambda ctx: ot_send(ctx, R, m0, m1, suite=suite),
                       R: lambda ctx: ot_receive(ctx, S, choices, 8, suite=suite)}, timeout=30)
    assert np.array_equal(got[R], np.where(choices[:, None], m1, m0))


def test_ot_parties_on_different_suites_fail():
    choices = random_bits(4)
    with pytest.raises(PartyFailure) as err:
        run_parties({S: lambda ctx: random_ot_send(ctx, R, 4, suite="sm"),
                     R: lambda ctx: random_ot_receive(ctx, S, choices)}, timeout=30)
    assert isinstance(err.value.error, CryptoError)


@pytest.mark.parametrize("suite", SUITES)
def test_oprf_blind_evaluate_unblind_equals_the_direct_prf(suite):
    key = oprf.OprfServerKey.generate(suite)
    xs = [b"alice", b"bob", b""]
    state, blinded = oprf.blind(xs, suite=suite)
    assert blinded.shape == (3, oprf.point_bytes(suite))
    out = oprf.unblind_finalize(state, key.evaluate(blinded))
    assert out == key.evaluate_direct(xs)
    assert all(len(y) == oprf.output_bytes(suite) for y in out)
    assert oprf.OprfServerKey(key.to_bytes(), suite).evaluate_direct(xs) == out


def test_oprf_refuses_elements_of_the_other_group():
    sm_key = oprf.OprfServerKey.generate("sm")
    _, standard_blinded = oprf.blind([b"alice"])
    with pytest.raises((CryptoError, InputError)):
        sm_key.evaluate(standard_blinded)
    assert primitives("sm").group.POINT_BYTES == 33
    assert primitives("standard").group.POINT_BYTES == 32
