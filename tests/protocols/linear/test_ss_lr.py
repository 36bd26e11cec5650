"""Secret-shared vertical LR: quality against scikit-learn, topologies, failures."""

from functools import partial

import numpy as np
import pytest
from linear_roles import (
    idle,
    joint_table,
    load,
    pred_guest,
    pred_host,
    ss_dealer,
    ss_guest,
    ss_host,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import r2_score, roc_auc_score

from coalition.core import Party
from coalition.core.errors import InputError, PeerError
from coalition.protocols.linear import LinearModelPart
from coalition.testing import PartyFailure, run_parties

G, A = Party.guest(), Party.arbiter()
BREAST = {"optimizer": "momentum", "epochs": 20, "batch_size": 240, "learning_rate": 0.15,
          "alpha": 0.01}


def train(guest, hosts, params, *, arbiter=True, transport="memory", timeout=60.0):
    names = [Party.host(f"h{i}") for i in range(len(hosts))]
    roles = {G: partial(ss_guest, params=params, table=guest)}
    roles.update({p: partial(ss_host, params=params, table=t) for p, t in zip(names, hosts, strict=True)})
    if arbiter:
        roles[A] = partial(ss_dealer, params=params)
    out = run_parties(roles, timeout=timeout, transport=transport)
    return out[G], [out[p] for p in names]


def joint_score(guest, hosts, gm, hms):
    g = LinearModelPart.from_artifact(gm)
    s = g.partial_score(guest.features) + g.intercept
    for t, m in zip(hosts, hms, strict=True):
        s = s + LinearModelPart.from_artifact(m).partial_score(t.features)
    return s


def sk_auc(guest, hosts):
    x = joint_table(guest, hosts)
    return roc_auc_score(guest.labels, LogisticRegression(max_iter=2000).fit(x, guest.labels)
                         .decision_function(x))


def test_breast_two_party_with_arbiter_matches_sklearn(fate_data):
    guest, hosts = load(fate_data, "breast")
    gm, hms = train(guest, hosts, BREAST)
    auc = roc_auc_score(guest.labels, joint_score(guest, hosts, gm, hms))
    assert auc >= sk_auc(guest, hosts) - 0.01
    assert auc >= 0.994
    # each party holds only its own weights; the guest alone the intercept
    assert len(gm["weights"]) == 10 and len(hms[0]["weights"]) == 20
    assert gm["intercept"] is not None and hms[0]["intercept"] is None
    assert gm["meta"]["epochs"] == 20 and len(gm["meta"]["loss"]) == 20


def test_joint_prediction_matches_training_scores(fate_data):
    guest, hosts = load(fate_data, "breast")
    gm, hms = train(guest, hosts, BREAST)
    host = Party.host("h0")
    out = run_parties({G: partial(pred_guest, model=gm, table=guest),
                       host: partial(pred_host, model=hms[0], table=hosts[0])})
    expected = 1 / (1 + np.exp(-joint_score(guest, hosts, gm, hms)))
    assert np.allclose(out[G], expected)


def test_default_credit_one_epoch_matches_sklearn(fate_data):
    guest, hosts = load(fate_data, "default_credit")
    gm, hms = train(guest, hosts, {"epochs": 1, "batch_size": 240})
    auc = roc_auc_score(guest.labels, joint_score(guest, hosts, gm, hms))
    assert auc >= sk_auc(guest, hosts) - 0.01


def test_student_linear_regression_matches_sklearn(fate_data):
    guest, hosts = load(fate_data, "student")
    params = {"task": "linear", "epochs": 100, "batch_size": None, "learning_rate": 0.2,
              "alpha": 0.0, "optimizer": "momentum"}
    gm, hms = train(guest, hosts, params)
    x = joint_table(guest, hosts)
    sk = LinearRegression().fit(x, guest.labels).score(x, guest.labels)
    assert r2_score(guest.labels, joint_score(guest, hosts, gm, hms)) >= sk - 0.02


@pytest.mark.parametrize("arbiter", [True, False])
def test_two_hosts_with_and_without_arbiter(fate_data, arbiter):
    guest, hosts = load(fate_data, "breast", host_splits=2)
    gm, hms = train(guest, hosts, BREAST, arbiter=arbiter)
    assert [len(m["weights"]) for m in hms] == [10, 10]
    auc = roc_auc_score(guest.labels, joint_score(guest, hosts, gm, hms))
    assert auc >= sk_auc(guest, hosts) - 0.01
    # same model as one host holding all columns (up to fixed-point truncation noise)
    one_gm, one_hm = train(guest, [load(fate_data, "breast")[1][0]], BREAST)
    assert np.allclose(np.concatenate([m["weights"] for m in hms]), one_hm[0]["weights"],
                       atol=5e-3)
    assert np.allclose(gm["weights"], one_gm["weights"], atol=5e-3)


def test_dealerless_fallback_trains_the_same_model(fate_data):
    guest, hosts = load(fate_data, "breast")
    gm, hms = train(guest, hosts, BREAST, arbiter=False)
    ref_gm, ref_hms = train(guest, hosts, BREAST)
    assert np.allclose(hms[0]["weights"], ref_hms[0]["weights"], atol=5e-3)
    assert abs(gm["intercept"] - ref_gm["intercept"]) < 5e-3


def test_early_stopping_on_loss_and_weight_diff(fate_data):
    guest, hosts = load(fate_data, "breast")
    gm, _ = train(guest, hosts, {"epochs": 30, "early_stop": "loss", "tol": 1e-3,
                                 "learning_rate": 0.05})
    assert gm["meta"]["epochs"] < 30
    gm, _ = train(guest, hosts, {"epochs": 30, "early_stop": "weight_diff", "tol": 0.05,
                                 "learning_rate": 0.05})
    assert gm["meta"]["epochs"] < 30


def test_misaligned_rows_fail_with_input_error(fate_data):
    guest, hosts = load(fate_data, "breast")
    short = hosts[0].__class__(hosts[0].ids[1:], hosts[0].features[1:], hosts[0].feature_names)
    with pytest.raises(PartyFailure) as info:
        train(guest, [short], BREAST, timeout=10)
    assert isinstance(info.value.error, InputError)


def test_missing_peer_fails_with_typed_error_within_timeout(fate_data):
    guest, _ = load(fate_data, "breast")
    roles = {G: partial(ss_guest, params=BREAST, table=guest), Party.host("h0"): idle,
             A: partial(ss_dealer, params=BREAST)}
    with pytest.raises(PartyFailure) as info:
        run_parties(roles, timeout=2.0)
    assert isinstance(info.value.error, PeerError)


@pytest.mark.parametrize("arbiter", [True, False])
def test_sm_suite_trains_the_same_model_within_fixed_point_precision(fate_data, arbiter):
    """Under ``sm`` the shares come from HKDF-SM3/SM4-CTR instead of HKDF-SHA256/ChaCha20: other
    random masks, the same arithmetic. The public batch order is the same, so the weights differ
    only by the shares' probabilistic truncation (a few units of 2^-frac_bits)."""
    guest, hosts = load(fate_data, "breast", host_splits=2)
    params = {**BREAST, "epochs": 5}
    std_g, std_h = train(guest, hosts, params, arbiter=arbiter)
    sm_g, sm_h = train(guest, hosts, {**params, "suite": "sm"}, arbiter=arbiter)
    std = np.concatenate([std_g["weights"], *(m["weights"] for m in std_h)])
    sm = np.concatenate([sm_g["weights"], *(m["weights"] for m in sm_h)])
    assert not np.array_equal(std, sm)  # other masks, other truncation errors
    ulp = 2.0 ** -14  # frac_bits' default; measured differences are under 10 ulps
    assert np.max(np.abs(std - sm)) < 64 * ulp
    assert abs(std_g["intercept"] - sm_g["intercept"]) < 64 * ulp
    scores = [roc_auc_score(guest.labels, joint_score(guest, hosts, g, h))
              for g, h in ((std_g, std_h), (sm_g, sm_h))]
    assert abs(scores[0] - scores[1]) < 1e-3
