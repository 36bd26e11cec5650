"""Vertical LR as accurate as centralised LR (issue 24): the cubic sigmoid, clipped inputs and
iterate averaging, against scikit-learn's LogisticRegression on the same rows."""

from functools import partial

import numpy as np
import pytest
from linear_roles import joint_table, load, ss_dealer, ss_guest, ss_host
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from coalition.core import Party
from coalition.core.errors import ConfigError
from coalition.protocols.linear import LinearModelPart, LinearParams, coordinator, data_role
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.data import Standardizer
from coalition.protocols.linear.optim import PlainOptimizer
from coalition.protocols.linear.sigmoid import POLY3_RANGE, plain_sigmoid, sigmoid_poly
from coalition.testing import run_parties

G, H, A = Party.guest(), Party.host("h0"), Party.arbiter()
#: The documented accurate settings (docs/linear.md): cubic sigmoid, features clipped at 4
#: standard deviations, the model averaged over the last epoch.
ACCURATE = {"sigmoid": "poly3", "feature_clip": 4.0, "averaging": "epoch",
            "optimizer": "momentum", "batch_size": 1024, "learning_rate": 0.15, "alpha": 0.01}


def joint_score(guest, host, gm, hm):
    g, h = LinearModelPart.from_artifact(gm), LinearModelPart.from_artifact(hm)
    return g.partial_score(guest.features) + g.intercept + h.partial_score(host.features)


def sklearn_auc(guest, hosts):
    x = joint_table(guest, hosts)
    model = LogisticRegression(max_iter=2000).fit(x, guest.labels)
    return roc_auc_score(guest.labels, model.decision_function(x))


def test_poly3_is_the_least_squares_cubic():
    z = np.linspace(-POLY3_RANGE, POLY3_RANGE, 2001)
    c3, c2, c1, c0 = np.polyfit(z, 1.0 / (1.0 + np.exp(-z)), 3)
    assert np.allclose((c0, c1, c3), sigmoid_poly("poly3"), rtol=1e-6, atol=1e-9)
    assert abs(c2) < 1e-12
    # within 0.06 of the sigmoid on [-4, 4], where the taylor line is off by up to 0.5
    inner = z[np.abs(z) <= 4]
    exact = 1 / (1 + np.exp(-inner))
    assert np.max(np.abs(plain_sigmoid("poly3", inner) - exact)) < 0.06
    assert np.max(np.abs(plain_sigmoid("taylor1", inner) - exact)) > 0.5


@pytest.fixture(scope="module")
def credit(fate_data):
    """default_credit (30,000 rows) and scikit-learn's AUC on the same rows, loaded once."""
    guest, hosts = load(fate_data, "default_credit")
    return guest, hosts, sklearn_auc(guest, hosts)


def test_ss_lr_within_0005_auc_of_sklearn_on_default_credit(credit):
    """All 30,000 rows of default_credit, 5 epochs: the taylor1 model of before reached 0.716
    against scikit-learn's 0.724 here."""
    guest, hosts, baseline = credit
    params = {**ACCURATE, "protocol": "ss", "epochs": 5}
    out = run_parties({G: partial(ss_guest, params=params, table=guest),
                       H: partial(ss_host, params=params, table=hosts[0]),
                       A: partial(ss_dealer, params=params)}, timeout=300)
    auc = roc_auc_score(guest.labels, joint_score(guest, hosts[0], out[G], out[H]))
    assert auc >= baseline - 0.005


def plain_reference(guest, host, params, rows):
    """The same training in plaintext on one machine: what HE-LR must reproduce."""
    p = LinearParams.parse(params)
    xs = [Standardizer(clip=p.feature_clip).fit(t.features[:rows]).transform(t.features[:rows])
          for t in (guest, host)]
    x = np.hstack([xs[0], np.ones((rows, 1)), xs[1]])
    y = guest.labels[:rows]
    reg = np.ones(x.shape[1])
    reg[xs[0].shape[1]] = 0.0
    opt, w = PlainOptimizer(p, reg), np.zeros(x.shape[1])
    for epoch in range(p.epochs):
        total, steps = np.zeros_like(w), 0
        for idx in batches(rows, p, epoch):
            d = plain_sigmoid(p.sigmoid, x[idx] @ w) - y[idx]
            w = opt.step(w, x[idx].T @ d / len(idx), p.lr_at(epoch))
            total, steps = total + w, steps + 1
    return total / steps


def test_the_plaintext_cubic_model_he_reproduces_is_within_0005_of_sklearn(credit):
    """With the test below: HE-LR's model is this one, so it holds the same bar (the benchmark
    ``models.hetero_lr_he.default_credit`` measures the encrypted run itself)."""
    guest, hosts, baseline = credit
    params = {**ACCURATE, "protocol": "he-arbiter", "epochs": 5}
    w = plain_reference(guest, hosts[0], params, guest.n_rows)
    p = LinearParams.parse(params)
    x = np.hstack([Standardizer(clip=p.feature_clip).fit(t.features).transform(t.features)
                   for t in (guest, hosts[0])])
    width = guest.features.shape[1]
    score = x @ np.concatenate([w[:width], w[width + 1:]]) + w[width]
    assert roc_auc_score(guest.labels, score) >= baseline - 0.005


def _head(table, rows):
    from coalition.protocols.linear import PartyTable
    labels = None if table.labels is None else table.labels[:rows]
    return PartyTable(table.ids[:rows], table.features[:rows], table.feature_names, labels)


def test_he_arbiter_poly3_reproduces_the_plaintext_cubic_model(credit):
    """HE-LR's encrypted cubic (the guest combines [[b]], [[b²]], [[b³]] with its own score)
    gives the plaintext cubic model of the test above, on the first 600 rows."""
    guest, hosts, _ = credit
    rows = 600
    g, h = _head(guest, rows), _head(hosts[0], rows)
    params = {**ACCURATE, "protocol": "he-arbiter", "epochs": 2, "batch_size": 300,
              "key_bits": 1024, "allow_insecure_key": True}
    out = run_parties({
        G: lambda c: data_role(params, c.party.role).fit(c, g).model_.to_artifact(),
        H: lambda c: data_role(params, c.party.role).fit(c, h).model_.to_artifact(),
        A: lambda c: coordinator(params).fit(c),
    }, timeout=300)
    want = plain_reference(g, h, params, rows)
    got = np.concatenate([out[G]["weights"], [out[G]["intercept"]], out[H]["weights"]])
    assert np.allclose(got, want, atol=2e-4), np.max(np.abs(got - want))


def test_poly3_refuses_what_cannot_compute_it():
    with pytest.raises(ConfigError):
        LinearParams.parse({"protocol": "he-guest", "sigmoid": "poly3"})
    with pytest.raises(ConfigError):
        LinearParams.parse({"task": "linear", "sigmoid": "poly3"})
    from coalition.protocols.linear.he.common import powers_per_row
    with pytest.raises(ConfigError, match="exactly one host"):
        powers_per_row(LinearParams.parse({"protocol": "he-arbiter", "sigmoid": "poly3"}), 2)


def test_clipping_is_kept_in_the_model_part_and_applied_at_prediction():
    x = np.array([[0.0], [1.0], [2.0], [100.0]])
    s = Standardizer(clip=1.5).fit(x)
    assert np.max(np.abs(s.transform(x))) == 1.5
    again = Standardizer.from_dict(s.to_dict())
    assert again.clip == 1.5 and np.array_equal(again.transform(x), s.transform(x))
    assert Standardizer.from_dict({"mean": [0.0], "scale": [1.0]}).clip is None  # older parts
