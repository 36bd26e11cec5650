"""Horizontal histogram GBDT: as accurate as centralised HistGradientBoosting on the union of
the clients' rows, and the aggregator only ever receives masked histograms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hfl_support import AGG, PerParty, client_parties, drop_sends, iid_split, load_fate
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from coalition.protocols.horizontal.gbdt import (
    GBDTModel,
    GBDTParams,
    run_gbdt_client,
    run_gbdt_server,
)
from coalition.protocols.horizontal.gbdt.binning import range_counts
from coalition.protocols.horizontal.secagg import encode
from coalition.testing import Recorder, find_leaks, run_parties

PARAMS = GBDTParams(n_trees=20, max_depth=3, learning_rate=0.3, max_bins=32, l2=1.0,
                    client_timeout=30.0)
FILES = ["default_credit_homo_guest.csv", "default_credit_homo_host_1.csv",
         "default_credit_homo_host_2.csv"]


def _train(clients: list[tuple[np.ndarray, np.ndarray]], params: GBDTParams,
           wrap=None) -> dict:
    parties = client_parties(len(clients))
    roles = {AGG: lambda ctx: run_gbdt_server(ctx, clients[0][0].shape[1], params)}
    for p, (x, y) in zip(parties, clients, strict=True):
        roles[p] = lambda ctx, x=x, y=y: run_gbdt_client(ctx, x, y, params)
    return run_parties(roles, wrap=wrap, timeout=60.0)


@pytest.fixture(scope="module")
def credit(fate_data: Path) -> tuple[list, tuple, Recorder, dict]:
    # the first 2,000 rows of each client's file: three clients, 6,000 rows
    clients = [tuple(a[:2000] for a in load_fate(fate_data, f)) for f in FILES]
    test = load_fate(fate_data, "default_credit_homo_test.csv")
    rec = Recorder()
    return clients, test, rec, _train(clients, PARAMS, wrap=rec.wrap)


def test_auc_within_001_of_centralised_hist_gradient_boosting(credit) -> None:
    clients, (x_te, y_te), _, out = credit
    x = np.vstack([c[0] for c in clients])
    y = np.concatenate([c[1] for c in clients])
    central = HistGradientBoostingClassifier(
        max_iter=PARAMS.n_trees, max_depth=PARAMS.max_depth, learning_rate=PARAMS.learning_rate,
        max_bins=PARAMS.max_bins, l2_regularization=PARAMS.l2, max_leaf_nodes=None,
        min_samples_leaf=PARAMS.min_samples_leaf, early_stopping=False).fit(x, y)
    reference = roc_auc_score(y_te, central.predict_proba(x_te)[:, 1])
    model: GBDTModel = out[AGG]
    federated = roc_auc_score(y_te, model.predict_proba(x_te))
    assert federated >= reference - 0.01, (federated, reference)
    assert federated > 0.7
    # every client ends with the same model as the aggregator
    for party in client_parties(3):
        np.testing.assert_allclose(out[party].predict_proba(x_te[:50]),
                                   model.predict_proba(x_te[:50]))


def test_aggregator_receives_only_masked_histograms(credit) -> None:
    clients, _, rec, _ = credit
    for party, (x, y) in zip(client_parties(3), clients, strict=True):
        sent = rec.sent_by(party)
        assert sent and {m.receiver for m in sent} == {AGG}
        first = None
        for msg in sent:
            body = msg.value()
            # the job's SecAgg mask key once, then only masked vectors
            assert set(body) == ({"m_pk"} if msg.key.endswith("sa_hello") else {"secagg"})
            if msg.key.endswith("step/0/gbdt_reply"):
                first = body["secagg"]["masked"]
        # the first step's plain input (row and positive counts, range counts) is masked
        plain = encode(np.concatenate([[len(y), y.sum()], range_counts(x).ravel()]),
                       PARAMS.secagg.frac_bits, PARAMS.secagg.modulus_bits, max_summands=3)
        assert first is not None and first.shape == plain.shape
        assert np.mean(first == plain) < 0.01
        assert find_leaks(sent, x[:50].ravel(), ignore=lambda v: v in (0, 1)) == []


def test_a_client_dropping_a_step_falls_back_to_the_full_protocol(fate_data: Path) -> None:
    x, y = load_fate(fate_data, "breast_homo_guest.csv")
    x2, y2 = load_fate(fate_data, "breast_homo_host.csv")
    x_te, y_te = load_fate(fate_data, "breast_homo_test.csv")
    clients = iid_split(np.vstack([x, x2]), np.concatenate([y, y2]), 3, seed=2)
    params = GBDTParams(n_trees=3, max_depth=2, min_samples_leaf=5, client_timeout=2.0)
    late = client_parties(3)[2]
    # its histogram of step 3 (the first tree's second level) is lost
    rec = Recorder()
    out = _train(clients, params,
                 wrap=PerParty({late: drop_sends("step/3/gbdt_reply")}, outer=rec.wrap))
    model = out[AGG]
    fallback = {m.sender for m in rec.messages if "step/3/fallback" in m.key}
    assert set(client_parties(2)) <= fallback and late not in fallback
    assert len(model.trees) == 3
    assert roc_auc_score(y_te, model.predict_proba(x_te)) > 0.95
    for party in client_parties(3):  # the late client stays in and ends with the same model
        np.testing.assert_allclose(out[party].predict_proba(x_te), model.predict_proba(x_te))


# -- optional row-level DP: distributed Gaussian noise on every sum -----------------------------


def test_step_accountant_matches_the_gaussian_rdp_reference() -> None:
    """N Gaussian mechanisms of multiplier σ: RDP ``N·α/(2σ²)`` (Mironov 2017, Prop. 7), ε by
    the conversion of Balle et al. 2020 (Prop. 12), minimised over a fine grid of orders; the
    library minimises over its default orders, so it may only be slightly above."""
    from coalition.protocols.horizontal.gbdt.privacy import StepAccountant, sensitivity

    for sigma, steps in ((4.0, 42), (8.0, 122)):
        acc = StepAccountant(sigma, 1e-5, clients=3)
        for _ in range(steps):
            acc.step(3)
        orders = np.arange(1.02, 400, 0.01)
        reference = np.min(steps * orders / (2 * sigma**2) + np.log1p(-1 / orders)
                           - np.log(1e-5 * orders) / (orders - 1))
        assert reference <= acc.epsilon() <= reference * 1.03
    dropped = StepAccountant(4.0, 1e-5, clients=3)
    dropped.step(2)  # two of three noise shares reached the sum: σ·sqrt(2/3)
    full = StepAccountant(4.0, 1e-5, clients=3)
    full.step(3)
    assert dropped.epsilon() > full.epsilon()
    assert sensitivity("hist", 23) == pytest.approx(np.sqrt(23 * (2 + 1 / 16)))


def test_dp_histograms_change_the_model_and_cost_auc_gracefully(fate_data: Path) -> None:
    clients = [tuple(a for a in load_fate(fate_data, f)) for f in FILES]  # 3 x 8,000 rows
    x_te, y_te = load_fate(fate_data, "default_credit_homo_test.csv")
    base = {"n_trees": 10, "max_depth": 2, "max_bins": 16, "min_child_weight": 20.0,
            "client_timeout": 30.0}
    plain = _train(clients, GBDTParams(**base))[AGG]
    rec = Recorder()
    noisy_out = _train(clients, GBDTParams(**base, dp_noise_multiplier=4.0), wrap=rec.wrap)
    noisy = noisy_out[AGG]
    again = _train(clients, GBDTParams(**base, dp_noise_multiplier=4.0))[AGG]
    auc = {name: roc_auc_score(y_te, m.predict_proba(x_te))
           for name, m in (("plain", plain), ("noisy", noisy))}
    assert not np.allclose(noisy.predict_proba(x_te), plain.predict_proba(x_te))
    assert not np.allclose(noisy.predict_proba(x_te), again.predict_proba(x_te))
    assert auc["noisy"] >= auc["plain"] - 0.08 and auc["noisy"] > 0.7, auc
    # ε is the accountant's over the steps that ran (every one a Gaussian mechanism)
    from coalition.protocols.horizontal.gbdt.privacy import StepAccountant

    steps = {m.key.split("/step/")[1].split("/")[0] for m in rec.sent_by(AGG)
             if m.receiver == client_parties(3)[0] and m.value().get("kind") != "final"}
    expected = StepAccountant(4.0, 1e-5, 3)
    for _ in steps:
        expected.step(3)
    assert noisy.metrics["epsilon"] == pytest.approx(expected.epsilon())
    assert noisy_out[client_parties(3)[0]].metrics == noisy.metrics  # clients see ε too
