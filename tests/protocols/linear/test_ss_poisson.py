"""Poisson regression with exposure on secret shares (``protocol: ss``, issue 24): deviance
against scikit-learn's PoissonRegressor on the generated claims data of the HE test, what each
party sends, and the divergence guard."""

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from test_poisson import claims
from test_ss_privacy import looks_uniform, ring_arrays

from coalition.core import Party
from coalition.protocols.linear import LinearModelPart, PartyTable, coordinator, data_role
from coalition.protocols.linear.data import Standardizer
from coalition.protocols.linear.fixedpoint import encode
from coalition.protocols.linear.guard import TrainingDivergedError
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, H, H1, A = Party.guest(), Party.host("h0"), Party.host("h1"), Party.arbiter()
PARAMS = {"protocol": "ss", "task": "poisson", "optimizer": "momentum", "epochs": 8,
          "batch_size": 100, "learning_rate": 0.05, "penalty": "none", "averaging": "epoch"}


def train(guest, hosts, params=PARAMS, *, arbiter=True, rec=None):
    def fit(table):
        def role(c):
            est = data_role(params, c.party.role).fit(c, table)
            return est.model_.to_artifact(), list(est.history_.loss)
        return role

    roles = {G: fit(guest), **{h: fit(t) for h, t in zip((H, H1), hosts, strict=False)}}
    if arbiter:
        roles[A] = lambda c: coordinator(params).fit(c)
    return run_parties(roles, wrap=None if rec is None else rec.wrap, timeout=120)


def deviances(guest, hosts, out):
    """Ours (the trained parts scored in plaintext) and PoissonRegressor's on the joined table."""
    parts = [LinearModelPart.from_artifact(out[p][0]) for p in (G, H, H1) if p in out]
    score = parts[0].intercept + sum(m.partial_score(t.features)
                                     for m, t in zip(parts, [guest, *hosts], strict=True))
    ours = mean_poisson_deviance(guest.labels, np.exp(score) * guest.exposure)
    x = np.hstack([Standardizer().fit(t.features).transform(t.features)
                   for t in (guest, *hosts)])
    ref = PoissonRegressor(alpha=0.0, max_iter=1000).fit(x, guest.labels / guest.exposure,
                                                         sample_weight=guest.exposure)
    return ours, mean_poisson_deviance(guest.labels, ref.predict(x) * guest.exposure)


@pytest.fixture(scope="module")
def trained():
    guest, host = claims()
    rec = Recorder()
    return guest, host, train(guest, [host], rec=rec), rec


def test_deviance_within_2_percent_of_sklearn(trained):
    guest, host, out, _ = trained
    ours, baseline = deviances(guest, [host], out)
    assert ours <= baseline * 1.02, (ours, baseline)
    loss = out[G][1]
    assert len(loss) == PARAMS["epochs"] and loss[-1] > 0  # the guest's guard saw every epoch
    assert loss[-1] == pytest.approx(ours, rel=0.02)  # the opened deviance is the real one
    assert out[H][1] == []  # the host does not learn the deviance
    assert LinearModelPart.from_artifact(out[G][0]).task == "poisson"


@pytest.mark.parametrize("arbiter", [True, False])
def test_two_hosts_with_and_without_arbiter(arbiter):
    """SS needs no product of ciphertexts: any number of hosts (HE Poisson takes one)."""
    guest, host = claims(n=600, seed=5)
    hosts = [PartyTable(host.ids, host.features[:, [i]], [host.feature_names[i]])
             for i in (0, 1)]
    out = train(guest, hosts, arbiter=arbiter)
    ours, baseline = deviances(guest, hosts, out)
    assert ours <= baseline * 1.02, (ours, baseline)


def test_sm_suite_draws_the_exp_material_from_its_prg_and_trains_alike(trained):
    """Under the ``sm`` suite every stream (the exponential's square pairs included) is
    SM4-CTR/HKDF-SM3: other masks, the same model within fixed-point noise."""
    guest, host, out, _ = trained
    sm = train(guest, [host], {**PARAMS, "suite": "sm"})
    ours, baseline = deviances(guest, [host], sm)
    assert ours <= baseline * 1.02, (ours, baseline)
    np.testing.assert_allclose(sm[G][0]["weights"], out[G][0]["weights"], atol=0.02)


def test_shares_and_openings_look_uniform(trained):
    """Every ring array on the wire: most elements lack the sign-extended top bits of an
    encoded real, and per message key all arrays together look uniform (bits balanced, the
    top bits spread)."""
    *_, rec = trained
    by_key: dict[str, list[np.ndarray]] = {}
    for msg in rec.messages:
        for arr in ring_arrays(msg.value()):
            if arr.size >= 100:  # one batch
                top = arr.ravel() >> np.uint64(48)
                assert np.mean((top == 0) | (top == 0xFFFF)) < 0.5, msg.key
                by_key.setdefault(msg.key.rsplit("/", 1)[-1], []).append(arr.ravel())
    assert {"ss_open_exp", "ss_open_d", "ss_open_x", "ss_corrections"} <= set(by_key)
    for key, arrays in by_key.items():
        assert looks_uniform(np.concatenate(arrays)), key


def test_no_counts_exposures_scores_or_features_leave_their_owner(trained):
    guest, host, out, rec = trained
    g = LinearModelPart.from_artifact(out[G][0])
    h = LinearModelPart.from_artifact(out[H][0])
    eta = (g.partial_score(guest.features) + g.intercept + h.partial_score(host.features)
           + np.log(guest.exposure))
    mu = np.exp(eta)
    sent_by_guest = rec.sent_by(G)
    for values in (guest.labels, guest.exposure, np.log(guest.exposure), guest.features.ravel()):
        if values is not guest.labels:  # counts are small integers, as the layout's widths
            assert find_leaks(sent_by_guest, values.tolist(), ignore=lambda v: v in (0, 1)) == []
        assert find_leaks(sent_by_guest, [int(v) for v in encode(values, 14)],
                          ignore=lambda v: v in (0, 1)) == []
    host_raw = host.features.ravel()
    assert find_leaks(rec.sent_by(H), host_raw.tolist(), ignore=lambda v: v in (0, 1)) == []
    assert find_leaks(rec.sent_by(H), [int(v) for v in encode(host_raw, 14)],
                      ignore=lambda v: v in (0, 1)) == []
    # nobody receives the scores or predictions, plain or encoded, nor the host its deviance
    for party in (G, H, A):
        got = rec.received_by(party)
        assert find_leaks(got, [*eta.tolist(), *mu.tolist()], float_tol=1e-6) == []
        assert find_leaks(got, [int(v) for v in encode(mu, 14)],
                          ignore=lambda v: abs(v) < 64) == []
    assert find_leaks(rec.received_by(H), out[G][1], float_tol=1e-9) == []
    # the host gets one verdict per epoch: keep training, and why not
    verdicts = [m.value() for m in rec.received_by(H) if m.key.endswith("ss_verdict")]
    assert verdicts == [[True, None]] * (PARAMS["epochs"] - 1) + [[False, None]]
    # the dealer receives the layout and the keep bits, nothing else
    assert {m.key.rsplit("/", 1)[-1] for m in rec.received_by(A)} == {"layout", "ss_proceed"}


@pytest.mark.parametrize("arbiter", [True, False])
def test_diverging_training_fails_typed_at_every_party(arbiter):
    """A step of 5 with momentum sends the scores out of the exponential's range in the first
    epoch; the guest's guard stops the job with ``model.diverged``, and so does the host."""
    guest, host = claims(n=400, seed=2)
    with pytest.raises(PartyFailure) as info:
        train(guest, [host], {**PARAMS, "learning_rate": 5.0}, arbiter=arbiter)
    assert isinstance(info.value.error, TrainingDivergedError)
    assert info.value.error.code == "model.diverged"
