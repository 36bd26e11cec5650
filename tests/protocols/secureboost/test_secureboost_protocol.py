"""Multi-party SecureBoost runs on the in-memory hub: training, inference, artifacts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from coalition.core import Party, ProtocolError
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.secureboost import (
    SecureBoostGuest,
    SecureBoostHost,
    row_path,
)
from coalition.testing import PartyFailure, run_parties

pytestmark = pytest.mark.filterwarnings(f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")


@pytest.fixture(scope="module")
def breast_model(load_hetero, federation):
    fed = federation(2)
    data = load_hetero("breast_hetero")
    return fed, data, fed.fit(fed.params(num_trees=4), data)


def test_hosts_own_splits_and_predictions_are_consistent(breast_model):
    fed, data, fitted = breast_model
    guest, hosts = fitted["guest"], fitted["hosts"]
    owners = {n.owner for t in guest.trees_ for n in t.split_nodes()}
    assert {"h1", "h2"} & owners, "no host ever won a split"
    # the guest holds no threshold of a host split; the host holds exactly those splits
    for t, tree in enumerate(guest.trees_):
        for node in tree.split_nodes():
            if node.owner != "guest":
                assert np.isnan(node.threshold) and node.feature == -1
                host = hosts[int(node.owner[1:]) - 1]
                assert (t, node.id) in host.splits_
    assert sum(len(h.splits_) for h in hosts) == sum(
        n.owner != "guest" for t in guest.trees_ for n in t.split_nodes())
    pred = fed.predict(fitted, data)
    assert roc_auc_score(data.y, pred) > 0.98
    # the per-row path (online serving) reaches the same leaves as the batch protocol
    raw = fed.predict(fitted, data, raw=True)
    for i in range(0, data.y.size, 97):
        decisions = {}
        for h_idx, (host, cols) in enumerate(zip(hosts, fitted["cols"], strict=True)):
            for (t, nid), split in host.splits_.items():
                decisions[(f"h{h_idx + 1}", t, nid)] = bool(
                    split.go_left(data.Xh[i:i + 1, cols][:, split.feature])[0])
        paths = row_path(guest.trees_, data.Xg[i], decisions)
        margin = guest.init_score_[0] + sum(
            tree.nodes[p[-1]].weight for tree, p in zip(guest.trees_, paths, strict=True))
        assert margin == pytest.approx(raw[i, 0])


def test_artifacts_round_trip_per_party(breast_model):
    fed, data, fitted = breast_model
    g_art = json.loads(json.dumps(fitted["guest"].to_artifact()))
    h_arts = [json.loads(json.dumps(h.to_artifact())) for h in fitted["hosts"]]
    thresholds = {s.threshold for h in fitted["hosts"] for s in h.splits_.values()}
    assert not thresholds & set(_floats(g_art)), "a host threshold reached the guest's part"
    restored = {"guest": SecureBoostGuest.from_artifact(g_art),
                "hosts": [SecureBoostHost.from_artifact(a) for a in h_arts],
                "cols": fitted["cols"]}
    np.testing.assert_array_equal(fed.predict(restored, data), fed.predict(fitted, data))
    assert restored["guest"].feature_importance() == fitted["guest"].feature_importance()


def _floats(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _floats(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _floats(v)
    elif isinstance(obj, float):
        yield obj


def test_fitted_models_pickle_for_process_runners(breast_model):
    import pickle

    _, _, fitted = breast_model
    for model in (fitted["guest"], *fitted["hosts"]):
        clone = pickle.loads(pickle.dumps(model))
        assert json.dumps(clone.to_artifact()) == json.dumps(model.to_artifact())


def test_feature_importance_per_party(breast_model):
    _, _, fitted = breast_model
    guest = fitted["guest"]
    imp = guest.feature_importance()
    n_splits = sum(len(t.split_nodes()) for t in guest.trees_)
    assert sum(imp["split"].values()) == n_splits
    assert all(k.startswith(("guest:f", "host:")) for k in imp["gain"])
    assert all(v > 0 for v in imp["gain"].values())
    host_counts = sum(sum(h.feature_importance().values()) for h in fitted["hosts"])
    assert host_counts == sum(v for k, v in imp["split"].items() if k.startswith("host:"))


def test_missing_values_learn_a_default_direction(load_hetero, fed):
    data = load_hetero("breast_hetero")
    rng = np.random.default_rng(3)
    data = type(data)(data.y, data.Xg.copy(), data.Xh.copy())
    for X in (data.Xg, data.Xh):
        X[rng.random(X.shape) < 0.15] = np.nan
    fitted = fed.fit(fed.params(num_trees=3), data)
    pred = fed.predict(fitted, data)
    assert np.isfinite(pred).all() and roc_auc_score(data.y, pred) > 0.95
    defaults = [s.default_left for h in fitted["hosts"] for s in h.splits_.values()]
    defaults += [n.default_left for t in fitted["guest"].trees_ for n in t.split_nodes()
                 if n.owner == "guest"]
    assert any(defaults) and not all(defaults)


@pytest.mark.parametrize("sampling", ["goss", "random"])
def test_row_sampling(load_hetero, fed, sampling):
    train, test = load_hetero("breast_hetero").split(0.3)
    p = fed.params(num_trees=2, sampling=sampling, subsample=0.6, goss_top_rate=0.3,
                   goss_other_rate=0.3, min_samples_leaf=5)
    pred = fed.predict(fed.fit(p, train), test)
    assert roc_auc_score(test.y, pred) > 0.95


def test_early_stopping_keeps_the_best_round_everywhere(load_hetero, fed):
    train, valid = load_hetero("breast_hetero").split(0.3, seed=1)
    p = fed.params(num_trees=12, max_depth=2, learning_rate=1.0, early_stopping_rounds=1)
    fitted = fed.fit(p, train, valid=valid)
    guest = fitted["guest"]
    assert len(guest.trees_) < 12 and len(guest.trees_) == guest.best_iteration_ + 1
    assert all(h.n_trees_ == len(guest.trees_) for h in fitted["hosts"])
    assert all(t < len(guest.trees_) for h in fitted["hosts"] for t, _ in h.splits_)
    assert min(guest.valid_loss_) == guest.valid_loss_[guest.best_iteration_]


def test_multiclass_one_tree_per_class_and_three_hosts(load_hetero, federation):
    fed3 = federation(3)
    train, test = load_hetero("vehicle_scale_hetero").split(0.3)
    p = fed3.params(objective="multi:softmax", num_class=4, num_trees=2)
    fitted = fed3.fit(p, train)
    assert [t.klass for t in fitted["guest"].trees_] == [0, 1, 2, 3] * 2
    proba = fed3.predict(fitted, test)
    assert proba.shape == (test.y.size, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert accuracy_score(test.y, proba.argmax(1)) > 0.6


def test_single_host_regression(load_hetero, federation):
    fed1 = federation(1)
    data = load_hetero("student_hetero")
    fitted = fed1.fit(fed1.params(objective="reg:squarederror", num_trees=3), data)
    pred = fed1.predict(fitted, data)
    assert np.mean((pred - data.y) ** 2) < np.var(data.y)


def test_mismatched_host_parameters_fail_fast(load_hetero, fed):
    data = load_hetero("breast_hetero")
    G, H = Party.guest(), Party.host("h1")
    p = fed.params(num_trees=2)
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda c: SecureBoostGuest(p).fit(c, data.Xg, data.y),
                     H: lambda c: SecureBoostHost(p.model_copy(update={"max_depth": 4})).fit(
                         c, data.Xh)}, timeout=5)
    assert err.value.party == H and isinstance(err.value.error, ProtocolError)


def test_both_schemes_grow_the_same_trees(load_hetero, federation):
    """Paillier and OU carry the same packed fixed-point sums: equal splits and leaf weights."""
    fed = federation(1)
    data = load_hetero("breast_hetero")
    models = {s: fed.fit(fed.params(num_trees=3, he_scheme=s), data) for s in ("paillier", "ou")}
    pa, ou = models["paillier"], models["ou"]
    assert pa["hosts"][0].splits_ == ou["hosts"][0].splits_
    for tp, to in zip(pa["guest"].trees_, ou["guest"].trees_, strict=True):
        assert tp.nodes.keys() == to.nodes.keys()
        for nid, node in tp.nodes.items():
            other = to.nodes[nid]
            assert (node.is_leaf, node.owner, node.feature) == (
                other.is_leaf, other.owner, other.feature)
            assert node.weight == pytest.approx(other.weight, abs=1e-12)
    np.testing.assert_allclose(fed.predict(pa, data), fed.predict(ou, data), atol=1e-12)


def test_host_refuses_a_key_of_another_scheme(load_hetero, federation):
    fed = federation(1)
    data = load_hetero("breast_hetero")
    guest_p, host_p = fed.params(he_scheme="paillier"), fed.params(he_scheme="ou")
    roles = {Party.guest(): lambda c: SecureBoostGuest(guest_p).fit(c, data.Xg, data.y),
             Party.host("h1"): lambda c: SecureBoostHost(host_p).fit(c, data.Xh)}
    with pytest.raises(PartyFailure) as err:
        run_parties(roles, timeout=60)
    assert err.value.party == Party.host("h1") and isinstance(err.value.error, ProtocolError)
    assert "scheme" in str(err.value.error)
