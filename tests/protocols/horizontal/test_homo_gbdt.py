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
