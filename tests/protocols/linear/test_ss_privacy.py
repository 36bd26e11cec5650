"""What crosses the wire in the SS variant: random-looking shares and masked openings only,
under both crypto suites (the share PRG is ChaCha20/HKDF-SHA256 or SM4-CTR/HKDF-SM3)."""

from functools import partial

import numpy as np
import pytest
from linear_roles import load, ss_dealer, ss_guest, ss_host

from coalition.core import Party
from coalition.protocols.linear.fixedpoint import encode
from coalition.testing import Recorder, find_leaks, run_parties

G, A = Party.guest(), Party.arbiter()
PARAMS = {"optimizer": "momentum", "epochs": 3, "batch_size": 240}
H0, H1 = Party.host("h0"), Party.host("h1")


def run(fate_data, *, arbiter=True, params=PARAMS):
    guest, hosts = load(fate_data, "breast", host_splits=2)
    rec = Recorder()
    roles = {G: partial(ss_guest, params=params, table=guest),
             H0: partial(ss_host, params=params, table=hosts[0]),
             H1: partial(ss_host, params=params, table=hosts[1])}
    if arbiter:
        roles[A] = partial(ss_dealer, params=params)
    out = run_parties(roles, wrap=rec.wrap, timeout=60)
    return rec, guest, hosts, out


def ring_arrays(value):
    if isinstance(value, np.ndarray) and value.dtype == np.uint64:
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from ring_arrays(v)
    elif isinstance(value, list):
        for v in value:
            yield from ring_arrays(v)


def looks_uniform(arr: np.ndarray) -> bool:
    """Every bit position is set in 30-70% of the elements, and the top 16 bits are spread
    out: a fixed-point encoding of real data has them all 0x0000 or 0xFFFF (sign extension)."""
    flat = arr.ravel()
    bits = (flat[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    freq = bits.mean(axis=0)
    top = flat >> np.uint64(48)
    small = np.mean((top == 0) | (top == 0xFFFF))
    return bool(np.all((freq > 0.3) & (freq < 0.7)) and small < 0.01)


@pytest.mark.parametrize(("arbiter", "suite"),
                         [(True, "standard"), (False, "standard"), (True, "sm"), (False, "sm")])
def test_every_share_and_opening_looks_uniform(fate_data, arbiter, suite):
    rec, guest, *_ = run(fate_data, arbiter=arbiter, params={**PARAMS, "suite": suite})
    assert not looks_uniform(encode(guest.features, 14))  # the check can fail
    checked = 0
    for msg in rec.messages:
        for arr in ring_arrays(msg.value()):
            if arr.size >= 200:  # enough elements for a meaningful bit-frequency check
                assert looks_uniform(arr), msg.key
                checked += 1
    assert checked > 20


def test_cubic_sigmoid_openings_look_uniform(fate_data):
    """sigmoid: poly3 opens z - A_s and z^2 - B_s per batch: both masked by fresh ring elements."""
    params = {**PARAMS, "sigmoid": "poly3", "feature_clip": 4.0, "averaging": "epoch",
              "learning_rate": 0.05, "alpha": 0.1}  # breast separates: keep |z| in range
    rec, *_ = run(fate_data, params=params)
    cubic = [m for m in rec.messages if m.key.endswith(("ss_open_z", "ss_open_z2"))]
    assert cubic
    for msg in cubic:
        for arr in ring_arrays(msg.value()):
            if arr.size >= 200:
                assert looks_uniform(arr), msg.key


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_no_raw_or_encoded_values_leave_their_owner(fate_data, suite):
    rec, guest, hosts, out = run(fate_data, params={**PARAMS, "suite": suite})
    f = PARAMS.get("frac_bits", 14)
    for party, table in ((G, guest), (H0, hosts[0]), (H1, hosts[1])):
        raw = [*table.features.ravel().tolist()]
        assert find_leaks(rec.sent_by(party), raw, ignore=lambda v: v in (0, 1)) == []
        encoded = [int(v) for v in encode(table.features, f).ravel()]
        assert find_leaks(rec.sent_by(party), encoded, ignore=lambda v: v in (0, 1)) == []
    labels = encode(guest.labels, f).tolist() + encode(guest.labels - 0.5, f).tolist()
    assert find_leaks(rec.sent_by(G), [int(v) for v in labels],
                      ignore=lambda v: v in (0, 1)) == []
    # final weights never reach anyone but their owner, in plain or encoded form
    host_w = np.concatenate([out[H0]["weights"], out[H1]["weights"]])
    for party in (G, A):
        msgs = rec.received_by(party)
        assert find_leaks(msgs, host_w.tolist(), float_tol=1e-9) == []
    assert find_leaks(rec.received_by(H0), out[G]["weights"], float_tol=1e-9) == []


def test_dealer_never_receives_data(fate_data):
    rec, *_ = run(fate_data)
    got = rec.received_by(A)
    assert {m.key.rsplit("/", 1)[-1] for m in got} == {"layout", "ss_proceed"}
    for m in got:
        value = m.value()
        assert isinstance(value, bool) or set(value) == {"rows", "widths"}
