"""Model quality: FedAvg matches centralised training; robust aggregators resist attackers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hfl_support import AGG, iid_split, load_fate, run_federation

from coalition.protocols.horizontal import HorizontalParams, LocalData
from coalition.protocols.horizontal.models import MLP, LogisticRegression, TrainConfig
from coalition.protocols.horizontal.strategies import (
    CoordinateMedian,
    FedAdam,
    FedAvg,
    FedProx,
    Krum,
    TrimmedMean,
)


def test_fedavg_digits_iid_matches_centralised(digits) -> None:
    x_tr, y_tr, x_te, y_te = digits
    rounds, epochs, lr, batch = 30, 2, 0.2, 32

    def make() -> MLP:
        return MLP(64, 10, hidden=(32,), seed=1)

    data = [LocalData(x, y, x_te, y_te) for x, y in iid_split(x_tr, y_tr, 5)]
    params = HorizontalParams(rounds=rounds, local_epochs=epochs, batch_size=batch,
                              learning_rate=lr, client_timeout=20)
    fed = run_federation(make, data, params, FedAvg())[AGG]
    central = make()
    central.fit(x_tr, y_tr, TrainConfig(rounds * epochs, batch, lr), np.random.default_rng(0))
    central_acc = central.evaluate(x_te, y_te)["accuracy"]
    fed_acc = float(np.mean(fed.predict(x_te) == y_te))
    assert fed_acc == pytest.approx(fed.metrics["accuracy"])
    assert fed_acc >= central_acc - 0.02
    # accuracy per round is reported and improves
    assert fed.history[-1].metrics["accuracy"] > fed.history[1].metrics["accuracy"]


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def _centralised_auc(parts, x_te, y_te) -> float:
    from sklearn.linear_model import LogisticRegression as SkLR

    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return _auc(y_te, SkLR(max_iter=2000).fit(x, y).predict_proba(x_te)[:, 1])


@pytest.mark.parametrize(("files", "test_file", "params"), [
    (["breast_homo_guest.csv", "breast_homo_host.csv"], "breast_homo_test.csv",
     HorizontalParams(rounds=20, batch_size=32, learning_rate=0.1)),
    (["default_credit_homo_guest.csv", "default_credit_homo_host_1.csv",
      "default_credit_homo_host_2.csv"], "default_credit_homo_test.csv",
     HorizontalParams(rounds=10, batch_size=64, learning_rate=0.05)),
])
def test_fate_homo_auc_matches_centralised_lr(fate_data: Path, files, test_file, params) -> None:
    parts = [load_fate(fate_data, f) for f in files]
    x_te, y_te = load_fate(fate_data, test_file)
    n_features = x_te.shape[1]
    data = [LocalData(x, y, x_te, y_te) for x, y in parts]
    fed = run_federation(lambda: LogisticRegression(n_features), data, params, FedAvg())[AGG]
    fed_auc = _auc(y_te, fed.build().predict_proba(x_te))
    assert fed_auc >= _centralised_auc(parts, x_te, y_te) - 0.01
    assert fed.metrics["auc"] == pytest.approx(fed_auc)


@pytest.mark.parametrize("strategy", [FedProx(mu=0.01), FedAdam(eta=0.05)],
                         ids=["fedprox", "fedadam"])
def test_other_strategies_train_breast(fate_data: Path, strategy) -> None:
    parts = [load_fate(fate_data, f) for f in ("breast_homo_guest.csv", "breast_homo_host.csv")]
    x_te, y_te = load_fate(fate_data, "breast_homo_test.csv")
    data = [LocalData(x, y, x_te, y_te) for x, y in parts]
    params = HorizontalParams(rounds=15, batch_size=32, learning_rate=0.1)
    fed = run_federation(lambda: LogisticRegression(30), data, params, strategy)[AGG]
    assert fed.metrics["auc"] >= 0.97


class Attacker:
    """A Byzantine client: trains honestly, then sends ``scale ×`` its update."""

    def __init__(self, inner: LogisticRegression, scale: float) -> None:
        self.inner, self.scale = inner, scale

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def fit(self, x, y, config, rng) -> float:
        start = self.inner.get_weights()
        loss = self.inner.fit(x, y, config, rng)
        end = self.inner.get_weights()
        self.inner.set_weights({k: start[k] + self.scale * (end[k] - start[k]) for k in start})
        return loss


@pytest.mark.parametrize("scale", [-4.0, 50.0], ids=["sign_flip", "scaled"])
def test_robust_aggregators_keep_accuracy_under_attack(digits, scale: float) -> None:
    x_tr, y_tr, x_te, y_te = digits

    def make() -> LogisticRegression:
        return LogisticRegression(64, 10)

    data = [LocalData(x, y, x_te, y_te) for x, y in iid_split(x_tr, y_tr, 10)]
    params = HorizontalParams(rounds=10, batch_size=32, learning_rate=0.1, client_timeout=20)
    attackers = {0: lambda: Attacker(make(), scale), 1: lambda: Attacker(make(), scale)}  # 20 %
    clean = run_federation(make, data, params, FedAvg())[AGG].metrics["accuracy"]
    attacked = run_federation(make, data, params, FedAvg(), client_models=attackers)[AGG]
    assert attacked.metrics["accuracy"] < clean - 0.2
    for robust in (CoordinateMedian(), TrimmedMean(beta=0.2), Krum(num_byzantine=2, multi=5)):
        out = run_federation(make, data, params, robust, client_models=attackers)[AGG]
        assert out.metrics["accuracy"] >= clean - 0.03, robust.name
