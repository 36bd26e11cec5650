"""Recorded-wire privacy of split learning (breast): what each party sends, under both crypto
suites (issue 25: the triples' PRG is HKDF-SM3 and SM4-CTR under ``sm``).

No raw feature, no label, no bottom output α_h and no host gradient δ·W_hᵀ appears on the
wire, neither as floats nor in their fixed-point encodings; the dealer receives only the public
sizes and takes no part in prediction; the weight shares, the host's ``W_h·R`` and the guest's
``R⁻¹`` never reach the other party.
"""

from __future__ import annotations

import numpy as np
import pytest
from splitnn_roles import A, G, H, fit, load, predict

from coalition.core.errors import ConfigError
from coalition.protocols.linear.fixedpoint import encode
from coalition.protocols.splitnn import HeteroNNParams, SplitNNGuest, SplitNNHost
from coalition.protocols.splitnn.spec import FRAC_DELTA, FRAC_VALUE, FRAC_WEIGHT
from coalition.testing import Recorder, find_leaks, run_parties

PARAMS = HeteroNNParams(epochs=2, batch_size=64)


class RecordingHost(SplitNNHost):
    """Keeps every gradient it receives (to look for them on the wire)."""

    seen: list[np.ndarray]

    def _observe(self, epoch, rows, grad):
        self.seen = [*getattr(self, "seen", []), grad]


def _trivial(v):
    return v in (0, 1, 0.0, 1.0)


def _small(v):
    """Encodings below 2^16 (|x| < 16 units of 2^-12) collide with sizes and counts."""
    return 0 <= v < 1 << 16


@pytest.fixture(scope="module", params=["standard", "sm"])
def recorded(fate_data, request):
    data = load(fate_data, "breast")
    train, test = data.split()
    rec = Recorder()
    params = HeteroNNParams(epochs=2, batch_size=64, suite=request.param)
    models = fit(params, train, wrap=rec.wrap, host=RecordingHost)
    prec = Recorder()
    predict(models, test, wrap=prec.wrap)
    return rec, prec, models, train, test


def test_no_raw_feature_or_label_on_the_wire(recorded):
    rec, prec, _, train, test = recorded
    for r, d in ((rec, train), (prec, test)):
        for party, x in ((G, d.xg), (H, d.xh)):
            sent = r.sent_by(party)
            assert find_leaks(sent, x.ravel().tolist(), ignore=_trivial) == []
            enc = [int(v) for v in encode(x, FRAC_VALUE).ravel()]
            assert find_leaks(sent, enc, ignore=_small) == []
    # labels: 0/1 are everywhere as numbers, so look for their encodings and for the errors
    labels = [int(v) for v in encode(train.y, FRAC_DELTA)] + [
        int(v) for v in encode(train.y, FRAC_VALUE)]
    assert find_leaks(rec.sent_by(G), labels, ignore=_small) == []


def test_no_bottom_output_or_gradient_in_the_clear(recorded):
    rec, prec, models, _train, test = recorded
    host = models[H]
    alpha, _ = host.bottom_.forward(host.scaler_(test.xh))
    assert np.count_nonzero(alpha) > alpha.size // 4
    assert find_leaks(prec.sent_by(H), alpha.ravel().tolist(), ignore=_trivial) == []
    assert find_leaks(prec.sent_by(H), [int(v) for v in encode(alpha, FRAC_VALUE).ravel()],
                      ignore=_small) == []
    grads = np.concatenate([g.ravel() for g in host.seen])
    assert grads.size and np.any(grads != 0)
    assert find_leaks(rec.sent_by(G), grads.tolist(), ignore=_trivial) == []
    assert find_leaks(rec.sent_by(G), [int(v) for v in encode(
        grads, FRAC_DELTA + FRAC_WEIGHT)], ignore=_small) == []


def test_weight_shares_stay_with_their_owner(recorded):
    rec, prec, models, *_ = recorded
    u_host = [int(v) for v in models[H].u_.ravel()]
    u_guest = [int(v) for v in models[G].u_[H.name].ravel()]
    assert find_leaks(rec.sent_by(H), u_host) == []
    assert find_leaks(rec.sent_by(G), u_guest) == []
    for r in (rec, prec):
        assert find_leaks(r.sent_by(H), models[H].m_.ravel().tolist(), ignore=_trivial) == []
        assert find_leaks(r.sent_by(G), models[G].r_inv_[H.name].ravel().tolist(),
                          ignore=_trivial) == []


def test_prediction_sends_only_the_rotated_contribution(recorded):
    _, prec, models, _, test = recorded
    [msg] = prec.messages
    assert (msg.sender, msg.receiver) == (H, G)
    np.testing.assert_allclose(msg.value(), models[H].partial(test.xh))


def test_dealer_receives_only_public_sizes(recorded):
    rec, prec, *_ = recorded
    assert prec.received_by(A) == []
    for r in (rec, prec):
        for m in r.received_by(A):
            value = m.value()
            kind = m.key.rsplit("/", 1)[-1]
            assert kind in {"setup", "proceed"}
            if kind == "setup":
                assert set(value) <= {"rows", "params"}


def test_refused_without_an_arbiter(fate_data):
    data = load(fate_data, "breast")
    with pytest.raises(Exception) as err:
        run_parties({G: lambda c: SplitNNGuest(PARAMS).fit(c, data.xg, data.y),
                     H: lambda c: SplitNNHost(PARAMS).fit(c, data.xh)}, timeout=20)
    assert isinstance(err.value.__cause__, ConfigError) or "arbiter" in str(err.value)


def test_host_refuses_other_parameters(fate_data):
    data = load(fate_data, "breast")
    other = HeteroNNParams(epochs=2, batch_size=64, learning_rate=0.5)
    with pytest.raises(Exception, match="differ"):
        run_parties({G: lambda c: SplitNNGuest(PARAMS).fit(c, data.xg, data.y),
                     H: lambda c: SplitNNHost(other).fit(c, data.xh),
                     A: lambda c: __import__("coalition.protocols.splitnn", fromlist=["x"])
                     .SplitNNDealer(PARAMS).fit(c)}, timeout=20)


def test_model_parts_round_trip(recorded):
    _, _, models, _, test = recorded
    guest = SplitNNGuest.from_artifact(models[G].to_artifact())
    host = SplitNNHost.from_artifact(models[H].to_artifact())
    again = predict({G: guest, H: host}, test)
    first = predict(models, test)
    np.testing.assert_allclose(again, first, atol=1e-9)


def test_parts_stored_before_state_dicts_still_score(recorded):
    """Parts written before the state-dict form (layers as JSON lists, one ``R⁻¹`` matrix)
    load and score as before."""
    _, _, models, _, test = recorded

    def lists(stack):
        return {"activation": stack.activation, "weights": [w.tolist() for w in stack.weights],
                "biases": [b.tolist() for b in stack.biases]}

    g, h = models[G].to_artifact(), models[H].to_artifact()
    guest, host = SplitNNGuest.from_artifact(g), SplitNNHost.from_artifact(h)
    head = guest.head_
    g_old = {**g, "bottom": lists(guest.bottom_), "r_inv": g["r_inv"][H.name].tolist(),
             "head": {"w_guest": head.w_guest.tolist(), "bias": head.bias.tolist(),
                      "activation": head.activation, "top": lists(head.top),
                      "out_w": head.out_w.tolist(), "out_b": head.out_b.tolist()}}
    h_old = {**h, "bottom": lists(host.bottom_)}
    old = {G: SplitNNGuest.from_artifact(g_old), H: SplitNNHost.from_artifact(h_old)}
    np.testing.assert_allclose(predict(old, test), predict(models, test), rtol=0, atol=1e-12)
