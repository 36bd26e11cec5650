"""The HE linear models under both crypto suites (issue 25): training is the same (Paillier/OU
do not depend on the suite); the parts record ``sm``, so their joint prediction masks with SM2
ECDH, HKDF-SM3 and SM4-CTR instead of X25519, HKDF-SHA256 and ChaCha20 — and scores the same.
Every message of the prediction is recorded."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
from linear_roles import he_arbiter, he_guest, he_host, load, pred_guest, pred_host
from test_poisson import PARAMS as POISSON
from test_poisson import claims

from coalition.core import Party
from coalition.protocols.linear import LinearModelPart, coordinator, data_role
from coalition.protocols.linear.masking import FRAC_BITS, decode_sum, encode_partial
from coalition.protocols.linear.multiclass import OvRModelPart, fit_ovr
from coalition.protocols.linear.predict import MASK_KEY, PARTIAL_SCORE, sigmoid
from coalition.protocols.linear.spec import LinearParams
from coalition.testing import Recorder, find_leaks, run_parties

G, A = Party.guest(), Party.arbiter()
HOSTS = [Party.host("h0"), Party.host("h1")]
KEY = {"key_bits": 1024, "allow_insecure_key": True}
# Training does not touch the suite's primitives, so the weights are the same (measured: equal
# to the bit); the tolerance is far below one fixed-point unit of the HE encoding.
WEIGHT_TOL = 1e-9


def _train(guest: Any, hosts: list[Any], params: dict[str, Any]) -> dict[Party, Any]:
    roles = {G: partial(he_guest, params=params, table=guest)}
    roles.update({p: partial(he_host, params=params, table=t)
                  for p, t in zip(HOSTS, hosts, strict=True)})
    if params["protocol"] == "he-arbiter":
        roles[A] = partial(he_arbiter, params=params)
    return run_parties(roles, timeout=120)


def _predict(models: dict[Party, Any], guest: Any, hosts: list[Any]
             ) -> tuple[np.ndarray, Recorder]:
    rec = Recorder()
    roles = {G: partial(pred_guest, model=models[G], table=guest)}
    roles.update({p: partial(pred_host, model=models[p], table=t)
                  for p, t in zip(HOSTS, hosts, strict=True)})
    out = run_parties(roles, wrap=rec.wrap, timeout=60)
    return out[G], rec


@pytest.fixture(scope="module")
def breast(fate_data):
    guest, hosts = load(fate_data, "breast", host_splits=2)
    return guest, hosts


@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_he_lr_under_sm_trains_and_predicts_as_under_standard(breast, protocol):
    guest, hosts = breast
    params = {**KEY, "protocol": protocol, "epochs": 2, "optimizer": "momentum",
              "learning_rate": 0.15, "batch_size": 240}
    trained = {s: _train(guest, hosts, {**params, "suite": s}) for s in ("standard", "sm")}
    for party in (G, *HOSTS):
        std, sm = trained["standard"][party], trained["sm"][party]
        np.testing.assert_allclose(sm["weights"], std["weights"], rtol=0, atol=WEIGHT_TOL)
        assert "suite" not in std["meta"]  # standard parts keep their pre-suite bytes
        assert sm["meta"]["suite"] == "sm"
        assert LinearModelPart.from_artifact(sm).suite == "sm"

    plain = {p: LinearModelPart.from_artifact(trained["sm"][p]).partial_score(t.features)
             for p, t in zip(HOSTS, hosts, strict=True)}
    scores = {}
    for suite in ("standard", "sm"):
        scores[suite], rec = _predict(trained[suite], guest, hosts)
        keys = [m.value() for m in rec.messages if m.key.endswith(MASK_KEY.name)]
        assert len(keys) == 2 and {len(k) for k in keys} == {33 if suite == "sm" else 32}
        to_guest = rec.received_by(G)
        assert {m.key.rsplit("/", 1)[-1] for m in to_guest} == {PARTIAL_SCORE.name}
        received = {m.sender: m.value() for m in to_guest}
        assert set(received) == set(HOSTS)
        masked = {}
        for host, msg in received.items():
            assert "score" not in msg  # never a host's w_h·x_h in the clear
            masked[host] = values = msg["masked"]
            assert not np.any(values == encode_partial(plain[host]))
            assert not np.any(np.isclose(values.view(np.int64) / 2.0**FRAC_BITS, plain[host],
                                         atol=1e-3))
        np.testing.assert_allclose(decode_sum(list(masked.values())), sum(plain.values()),
                                   rtol=0, atol=1e-11)
        # No host feature value reaches the guest, under either suite.
        never = [v for t in hosts for v in t.features[:20].ravel().tolist()]
        assert find_leaks(to_guest, never, ignore=lambda v: v in (0, 1)) == []
    np.testing.assert_allclose(scores["sm"], scores["standard"], rtol=0, atol=1e-9)
    g = LinearModelPart.from_artifact(trained["sm"][G])
    direct = sigmoid(g.partial_score(guest.features) + (g.intercept or 0.0) + sum(plain.values()))
    np.testing.assert_allclose(scores["sm"], direct, rtol=0, atol=1e-9)


def test_he_poisson_under_sm_trains_the_same_model():
    guest, host = claims(n=300)
    h = Party.host("h0")
    out = {}
    for suite in ("standard", "sm"):
        params = {**POISSON, "epochs": 2, "suite": suite}
        out[suite] = run_parties({
            G: lambda c, p=params: data_role(p, c.party.role).fit(c, guest).model_.to_artifact(),
            h: lambda c, p=params: data_role(p, c.party.role).fit(c, host).model_.to_artifact(),
            A: lambda c, p=params: coordinator(p).fit(c),
        }, timeout=120)
    for party in (G, h):
        np.testing.assert_allclose(out["sm"][party]["weights"], out["standard"][party]["weights"],
                                   rtol=0, atol=WEIGHT_TOL)
        assert out["sm"][party]["meta"]["suite"] == "sm"


def test_he_multiclass_under_sm_trains_the_same_model(breast):
    guest, hosts = breast
    rng = np.random.default_rng(5)  # a third class, by a public rule on the row index
    labels = np.where(rng.random(len(guest.ids)) < 0.3, 2.0, guest.labels)
    three = type(guest).from_arrays(guest.ids, guest.features, labels, guest.feature_names)
    h = HOSTS[0]
    out = {}
    for suite in ("standard", "sm"):
        params = LinearParams.parse({**KEY, "protocol": "he-arbiter", "epochs": 1,
                                     "batch_size": None, "suite": suite})

        def fit(ctx: Any, table: Any, p: LinearParams = params) -> Any:
            part = fit_ovr(ctx, p, table)
            return None if part is None else part.to_artifact()

        out[suite] = run_parties({G: partial(fit, table=three), h: partial(fit, table=hosts[0]),
                                  A: partial(fit, table=None)}, timeout=300)
    for party in (G, h):
        std = OvRModelPart.from_artifact(out["standard"][party]).parts
        sm = OvRModelPart.from_artifact(out["sm"][party]).parts
        assert len(sm) == len(std) == 3
        for a, b in zip(std, sm, strict=True):
            np.testing.assert_allclose(b.weights, a.weights, rtol=0, atol=WEIGHT_TOL)
            assert b.suite == "sm" and a.suite == "standard"
