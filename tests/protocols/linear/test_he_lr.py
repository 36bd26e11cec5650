"""Paillier vertical LR: both topologies, quality against scikit-learn, masked gradients."""

import warnings
from functools import partial

import numpy as np
import pytest
from linear_roles import he_arbiter, he_guest, he_host, joint_table, load
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import r2_score, roc_auc_score

from coalition.core import Party
from coalition.core.errors import ConfigError, EncodingOverflowError, PeerError, ProtocolError
from coalition.crypto.paillier import EncryptedArray, InsecureKeyWarning, generate_keypair
from coalition.protocols.linear import LinearModelPart, LinearParams
from coalition.protocols.linear.he.guest import HEGuest
from coalition.protocols.linear.he.mask import decrypt_masked, mask, unmask
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, A = Party.guest(), Party.arbiter()
KEY = {"key_bits": 1024, "allow_insecure_key": True}
BREAST = {**KEY, "optimizer": "momentum", "epochs": 20, "batch_size": 240,
          "learning_rate": 0.15, "alpha": 0.01}


def train(guest, hosts, params, *, wrap=None, transport="memory", timeout=120.0):
    names = [Party.host(f"h{i}") for i in range(len(hosts))]
    roles = {G: partial(he_guest, params=params, table=guest)}
    roles.update({p: partial(he_host, params=params, table=t)
                  for p, t in zip(names, hosts, strict=True)})
    if params["protocol"] == "he-arbiter":
        roles[A] = partial(he_arbiter, params=params)
    out = run_parties(roles, timeout=timeout, wrap=wrap, transport=transport)
    return out[G], [out[p] for p in names]


def score(guest, hosts, gm, hms):
    g = LinearModelPart.from_artifact(gm)
    s = g.partial_score(guest.features) + g.intercept
    for t, m in zip(hosts, hms, strict=True):
        s = s + LinearModelPart.from_artifact(m).partial_score(t.features)
    return s


def sk_auc(guest, hosts):
    x = joint_table(guest, hosts)
    model = LogisticRegression(max_iter=2000).fit(x, guest.labels)
    return roc_auc_score(guest.labels, model.decision_function(x))


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_breast_matches_sklearn(fate_data, protocol):
    guest, hosts = load(fate_data, "breast")
    gm, hms = train(guest, hosts, {**BREAST, "protocol": protocol})
    auc = roc_auc_score(guest.labels, score(guest, hosts, gm, hms))
    assert auc >= sk_auc(guest, hosts) - 0.01
    assert len(gm["meta"]["loss"]) == 20 and gm["meta"]["loss"][-1] < gm["meta"]["loss"][0]
    assert len(hms[0]["weights"]) == 20 and hms[0]["intercept"] is None


@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_two_hosts_adam_l1(fate_data, protocol):
    guest, hosts = load(fate_data, "breast", host_splits=2)
    params = {**KEY, "protocol": protocol, "epochs": 3, "optimizer": "adam", "penalty": "l1",
              "learning_rate": 0.05, "early_stop": "weight_diff", "tol": 1e-9}
    gm, hms = train(guest, hosts, params)
    assert [len(m["weights"]) for m in hms] == [10, 10]
    assert roc_auc_score(guest.labels, score(guest, hosts, gm, hms)) > 0.98


@pytest.mark.slow
def test_student_linear_regression(fate_data):
    guest, hosts = load(fate_data, "student")
    params = {**KEY, "protocol": "he-arbiter", "task": "linear", "epochs": 60,
              "batch_size": None, "learning_rate": 0.2, "alpha": 0.0, "optimizer": "momentum"}
    gm, hms = train(guest, hosts, params)
    x = joint_table(guest, hosts)
    sk = LinearRegression().fit(x, guest.labels).score(x, guest.labels)
    assert r2_score(guest.labels, score(guest, hosts, gm, hms)) >= sk - 0.02


@pytest.mark.slow
def test_default_credit_one_epoch(fate_data):
    guest, hosts = load(fate_data, "default_credit")
    gm, hms = train(guest, hosts, {**KEY, "protocol": "he-arbiter", "epochs": 1},
                    timeout=600)
    assert roc_auc_score(guest.labels, score(guest, hosts, gm, hms)) >= sk_auc(guest, hosts) - 0.01


@pytest.fixture
def known_key(monkeypatch):
    """Make the key holder use a key the test can read, to inspect what it decrypts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        pair = generate_keypair(1024, allow_insecure=True)
    import coalition.protocols.linear.he.arbiter as arb
    import coalition.protocols.linear.he.guest as gst
    monkeypatch.setattr(arb, "keypair", lambda params: pair)
    monkeypatch.setattr(gst, "keypair", lambda params: pair)
    return pair


@pytest.mark.parametrize("suite", ["standard", "sm"])
@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_key_holder_never_sees_a_true_gradient_and_no_plaintext_leaks(fate_data, protocol,
                                                                      known_key, suite):
    _, sk = known_key
    guest, hosts = load(fate_data, "breast")
    rec = Recorder()
    params = {**BREAST, "protocol": protocol, "epochs": 2, "suite": suite}
    gm, hms = train(guest, hosts, params, wrap=rec.wrap)
    assert LinearModelPart.from_artifact(hms[0]).suite == suite
    holder = A if protocol == "he-arbiter" else G
    grads = [m for m in rec.received_by(holder) if m.key.endswith("he_masked_grad")]
    assert grads
    for m in grads:
        enc = m.value()
        assert isinstance(enc, EncryptedArray)
        values = np.abs(sk.decrypt(enc))
        # a masked gradient decodes to ~2^60 noise; a true one is below 2^10
        assert np.all(values > 2.0**40), m.key
    host = Party.host("h0")
    to_host = rec.received_by(host)
    never = [*guest.labels.tolist(), *guest.features.ravel().tolist(), *gm["weights"]]
    assert find_leaks(to_host, never, ignore=lambda v: v in (0, 1)) == []
    to_guest = rec.received_by(G)
    assert find_leaks(to_guest, [*hosts[0].features.ravel().tolist(), *hms[0]["weights"]],
                      ignore=lambda v: v in (0, 1)) == []
    # ciphertexts sent to the key holder are re-randomised (masked) arrays, never plain values
    for m in rec.received_by(holder):
        value = m.value()
        assert isinstance(value, EncryptedArray | bool | float | dict | list) or value is None


def test_poly3_host_powers_stay_encrypted(fate_data, known_key):
    """sigmoid: poly3 sends the guest [[b]], [[b²]], [[b³]] under the arbiter's key: the
    guest never receives the host's score, its powers, features or weights in plaintext."""
    guest, hosts = load(fate_data, "breast")
    rec = Recorder()
    params = {**BREAST, "protocol": "he-arbiter", "epochs": 1, "sigmoid": "poly3",
              "feature_clip": 4.0}
    _, hms = train(guest, hosts, params, wrap=rec.wrap)
    host = Party.host("h0")
    powers = [m for m in rec.sent_by(host) if m.key.endswith("he_enc_ku")]
    assert powers
    hm = LinearModelPart.from_artifact(hms[0])
    b = hm.partial_score(hosts[0].features)
    for m in powers:
        assert isinstance(m.value(), EncryptedArray)
    to_guest = rec.received_by(G)
    secret = [*hosts[0].features.ravel().tolist(), *hms[0]["weights"], *b.tolist()]
    assert find_leaks(to_guest, secret, ignore=lambda v: v in (0, 1)) == []


def test_he_params_validation():
    with pytest.raises(ConfigError):
        LinearParams.parse({"protocol": "he-arbiter", "key_bits": 1024})
    with pytest.raises(ConfigError):
        HEGuest({"protocol": "ss"})


def test_missing_arbiter_fails_with_typed_error(fate_data):
    guest, hosts = load(fate_data, "breast")
    params = {**BREAST, "protocol": "he-arbiter"}
    roles = {G: partial(he_guest, params=params, table=guest),
             Party.host("h0"): partial(he_host, params=params, table=hosts[0]),
             A: _silent}
    with pytest.raises(PartyFailure) as info:
        run_parties(roles, timeout=2.0)
    assert isinstance(info.value.error, PeerError)


def _silent(ctx):
    return None


def test_masked_gradient_is_packed_exact_and_overflow_checked(known_key):
    pk, sk = known_key
    rng = np.random.default_rng(11)
    d = rng.normal(size=50)
    for width in (1, 7, 20):
        x = rng.normal(size=(50, width)) * 3
        grad = pk.encrypt(d).xt_dot(x)
        masked, m = mask(grad)
        assert masked.shape == (-(-width // m.slots),) and m.slots == 7  # 1024-bit key
        raw = decrypt_masked(sk, masked)
        assert all(v > 2**100 for v in raw)  # the key holder sees mask-sized numbers
        np.testing.assert_array_equal(unmask(raw, m), sk.decrypt(grad))
    with pytest.raises(ProtocolError):
        unmask([*raw[:-1], -1], m)
    huge, m = mask(pk.encrypt(np.array([2.0**33])))
    with pytest.raises(EncodingOverflowError):
        unmask(decrypt_masked(sk, huge), m)


@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_both_schemes_train_the_same_model(fate_data, protocol):
    """Paillier and OU carry the same fixed-point values: equal weights within encoding."""
    guest, hosts = load(fate_data, "breast")
    base = {**BREAST, "protocol": protocol, "epochs": 2}
    gp, hp = train(guest, hosts, {**base, "he_scheme": "paillier"})
    go, ho = train(guest, hosts, {**base, "he_scheme": "ou"})
    np.testing.assert_allclose(go["weights"], gp["weights"], atol=1e-9)
    np.testing.assert_allclose(ho[0]["weights"], hp[0]["weights"], atol=1e-9)
    assert go["intercept"] == pytest.approx(gp["intercept"], abs=1e-9)


@pytest.mark.parametrize(("scheme", "sigmoid"), [("paillier", "taylor1"), ("ou", "poly3")])
def test_pipelined_batches_train_the_same_model(fate_data, scheme, sigmoid):
    """``he_pipeline: 3`` streams each batch in three row segments (host, guest, arbiter and
    the pools overlap); ``1`` runs the steps in turn. Same ciphertext products: same model,
    same loss."""
    guest, hosts = load(fate_data, "breast")
    base = {**BREAST, "protocol": "he-arbiter", "epochs": 2, "he_scheme": scheme,
            "sigmoid": sigmoid}
    gs, hs = train(guest, hosts, {**base, "he_pipeline": 1})
    gp, hp = train(guest, hosts, {**base, "he_pipeline": 3})
    np.testing.assert_allclose(gp["weights"], gs["weights"], atol=1e-12)
    np.testing.assert_allclose(hp[0]["weights"], hs[0]["weights"], atol=1e-12)
    assert gp["intercept"] == pytest.approx(gs["intercept"], abs=1e-12)
    np.testing.assert_allclose(gp["meta"]["loss"], gs["meta"]["loss"], atol=1e-12)


def test_ou_masked_gradient_packs_into_its_smaller_plaintext_space():
    from coalition.crypto import he

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        pk, sk = he.generate_keypair("ou", 1024, allow_insecure=True)
    rng = np.random.default_rng(3)
    d, x = rng.normal(size=40), rng.normal(size=(40, 9))
    grad = pk.encrypt(d).xt_dot(x)
    masked, m = mask(grad)
    assert m.slots * m.slot_bits <= pk.plaintext_bits and masked.shape == (-(-9 // m.slots),)
    np.testing.assert_array_equal(unmask(decrypt_masked(sk, masked), m), sk.decrypt(grad))
