"""Vertical Poisson regression with exposure (issue 24): deviance against scikit-learn's
PoissonRegressor on generated claims data, and what crosses the wire."""

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance

from coalition.core import Party
from coalition.core.errors import ConfigError
from coalition.protocols.linear import (
    LinearModelPart,
    LinearParams,
    PartyTable,
    coordinator,
    data_role,
)
from coalition.protocols.linear.data import Standardizer
from coalition.testing import Recorder, find_leaks, run_parties

G, H, A = Party.guest(), Party.host("h0"), Party.arbiter()
PARAMS = {"protocol": "he-arbiter", "task": "poisson", "optimizer": "momentum", "epochs": 8,
          "batch_size": 100, "learning_rate": 0.05, "penalty": "none", "averaging": "epoch",
          "key_bits": 1024, "allow_insecure_key": True}


def claims(n=1000, seed=11):
    """Motor claims: the insurer (guest) has driver age, vehicle value and policy years
    (exposure); a telco (host) has night-driving share and phone-use score."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    exposure = rng.uniform(0.1, 1.0, n)
    rate = np.exp(-1.2 + x @ np.array([0.3, -0.2, 0.4, 0.25]))
    y = rng.poisson(exposure * rate).astype(float)
    ids = [f"p{i}" for i in range(n)]
    guest = PartyTable.from_arrays(ids, x[:, :2], y, ["age", "value"], exposure)
    host = PartyTable.from_arrays(ids, x[:, 2:], None, ["night", "phone"])
    return guest, host


@pytest.fixture(scope="module")
def trained():
    guest, host = claims()
    rec = Recorder()
    out = run_parties({
        G: lambda c: data_role(PARAMS, c.party.role).fit(c, guest).model_.to_artifact(),
        H: lambda c: data_role(PARAMS, c.party.role).fit(c, host).model_.to_artifact(),
        A: lambda c: coordinator(PARAMS).fit(c),
    }, wrap=rec.wrap, timeout=300)
    return guest, host, out, rec


def test_deviance_within_2_percent_of_sklearn(trained):
    guest, host, out, _ = trained
    g, h = LinearModelPart.from_artifact(out[G]), LinearModelPart.from_artifact(out[H])
    rate = np.exp(g.partial_score(guest.features) + g.intercept + h.partial_score(host.features))
    ours = mean_poisson_deviance(guest.labels, rate * guest.exposure)
    x = np.hstack([Standardizer().fit(t.features).transform(t.features) for t in (guest, host)])
    ref = PoissonRegressor(alpha=0.0, max_iter=1000).fit(x, guest.labels / guest.exposure,
                                                         sample_weight=guest.exposure)
    baseline = mean_poisson_deviance(guest.labels, ref.predict(x) * guest.exposure)
    assert ours <= baseline * 1.02, (ours, baseline)
    assert g.meta["loss"] and g.meta["loss"][-1] > 0  # the deviance is the guard's loss


def test_counts_exposures_and_host_scores_stay_private(trained):
    guest, host, out, rec = trained
    h = LinearModelPart.from_artifact(out[H])
    u = h.partial_score(host.features)
    secret_of_host = [*host.features.ravel().tolist(), *np.exp(u).tolist(), *u.tolist()]
    assert find_leaks(rec.received_by(G), secret_of_host, ignore=lambda v: v in (0, 1)) == []
    secret_of_guest = [*guest.exposure.tolist(), *guest.features.ravel().tolist()]
    assert find_leaks(rec.received_by(H), secret_of_guest, ignore=lambda v: v in (0, 1)) == []
    assert find_leaks(rec.received_by(A), [*guest.exposure.tolist(), *u.tolist()],
                      ignore=lambda v: v in (0, 1)) == []


def test_poisson_runs_on_he_arbiter_or_ss_not_he_guest():
    assert LinearParams.parse({"task": "poisson", "protocol": "ss"}).protocol == "ss"
    with pytest.raises(ConfigError):
        LinearParams.parse({"task": "poisson", "protocol": "he-guest"})
