"""ECDH-PSI under the ``sm`` crypto suite (SM2 group, SM3 hash-to-curve): the same results as
under ``standard``, and the same recorded-wire privacy."""

import hashlib

import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.sm import SM2, sm3
from coalition.crypto.sm.commutative import DEFAULT_DST, Sm2CommutativeKey
from coalition.crypto.sm.hash_to_curve import hash_to_curve
from coalition.protocols.psi import Delivery, PsiParams, run_guest, run_host
from coalition.testing import Recorder, find_leaks, run_parties

G, H = Party.guest(), Party.host("h1")
GUEST_IDS = [f"user{i}" for i in range(0, 120)]
HOST_IDS = [f"user{i}" for i in range(60, 200)][::-1]
SHARED = sorted(f"user{i}" for i in range(60, 120))


def _run(params, recorder=None):
    params = {"protocol": "ecdh", **params}
    out = run_parties({G: lambda ctx: run_guest(ctx, GUEST_IDS, params),
                       H: lambda ctx: run_host(ctx, HOST_IDS, params)},
                      wrap=recorder.wrap if recorder else None, timeout=60)
    return out[G], out[H]


@pytest.mark.parametrize("delivery", list(Delivery))
def test_sm_suite_gives_the_standard_result(delivery):
    standard = _run({"delivery": delivery.value, "suite": "standard"})
    sm = _run({"delivery": delivery.value, "suite": "sm"})
    for ours, theirs in zip(sm, standard, strict=True):
        assert ours.size == theirs.size == len(SHARED)
        assert ours.ids == theirs.ids
        if ours.indices is not None:
            assert list(ours.indices) == list(theirs.indices)
    # same 32-byte values; only the suite names in the hellos differ in length
    assert abs(sm[0].summary.bytes_sent - standard[0].summary.bytes_sent) < 64


def test_sm_suite_privacy_on_the_wire():
    rec = Recorder()
    g, _h = _run({"suite": "sm"}, rec)
    assert g.ids == SHARED
    raws = GUEST_IDS + HOST_IDS
    leaks = [sm3(x.encode()) for x in raws] + [hashlib.sha256(x.encode()).digest() for x in raws]
    # the suite's own H(x) (x-coordinates of the hash-to-curve points) never travel either
    leaks += [hash_to_curve(x.encode(), DEFAULT_DST)[1:17] for x in raws]
    for party in (G, H):
        assert find_leaks(rec.sent_by(party), raws + leaks) == []


def test_sm_commutative_cipher_commutes_and_validates():
    a, b = Sm2CommutativeKey.generate(), Sm2CommutativeKey.generate()
    ids = [b"x", b"y"]
    assert (a.encrypt(b.hash_encrypt(ids)) == b.encrypt(a.hash_encrypt(ids))).all()
    bad = a.hash_encrypt(ids)
    bad[1] = 0xFF  # x >= p: no point
    with pytest.raises(CryptoError):
        b.encrypt(bad)
    assert SM2.is_valid_point(b"\x02" + bytes(a.hash_encrypt([b"z"])[0]))


def test_sm_suite_accepts_every_engine_and_refuses_unknown_suites():
    # KKRT and OPRF run under sm too (tests/protocols/psi/test_psi_sm_engines.py)
    assert PsiParams.parse({"suite": "sm", "protocol": "kkrt"}).suite.value == "sm"
    with pytest.raises(ConfigError):
        PsiParams.parse({"suite": "gost"})


def test_three_party_ring_under_sm():
    h2 = Party.host("h2")
    ids = {G: GUEST_IDS[40:120], H: HOST_IDS[-80:], h2: GUEST_IDS[30:100]}
    params = {"delivery": "both", "suite": "sm"}
    out = run_parties({G: lambda ctx: run_guest(ctx, ids[G], params),
                       H: lambda ctx: run_host(ctx, ids[H], params),
                       h2: lambda ctx: run_host(ctx, ids[h2], params)}, timeout=60)
    expected = sorted(set(ids[G]) & set(ids[H]) & set(ids[h2]))
    assert expected and all(out[p].ids == expected for p in (G, H, h2))
