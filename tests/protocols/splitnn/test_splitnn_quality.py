"""Issue 24's bar: split learning within 0.01 AUC of the same network trained centrally.

The reference is :class:`~coalition.protocols.splitnn.CentralSplitNN`: the same layers,
initialisation scheme, schedule and SGD on the joined table, in float64. The federated model
differs only by the fixed-point interactive layer (and its own random initialisation). Both
are trained on a stratified 70 % split and scored on the other 30 %; the bar is one-sided.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from splitnn_roles import Split, fit, load, predict

from coalition.protocols.splitnn import CentralSplitNN, HeteroNNParams


def _compare(params: HeteroNNParams, data: Split) -> tuple[float, float]:
    train, test = data.split()
    ours = predict(fit(params, train), test)
    ref = CentralSplitNN(params).fit(train.xg, train.xh, train.y).predict(test.xg, test.xh)
    if params.task == "binary":
        return roc_auc_score(test.y, ours), roc_auc_score(test.y, ref)
    return r2_score(test.y, ours), r2_score(test.y, ref)


def test_breast_auc_within_001_of_central(fate_data):
    auc, base = _compare(HeteroNNParams(epochs=20), load(fate_data, "breast"))
    print(f"breast auc={auc:.4f} central={base:.4f}")
    assert auc >= base - 0.01
    assert auc > 0.98


def test_default_credit_auc_within_001_of_central(fate_data):
    """All 30,000 rows of default_credit (tests/data/fate), 8 epochs."""
    auc, base = _compare(HeteroNNParams(epochs=8), load(fate_data, "default_credit"))
    print(f"default_credit auc={auc:.4f} central={base:.4f}")
    assert auc >= base - 0.01
    assert auc > 0.76


def test_regression_r2_close_to_central():
    """A generated target that needs both parties' features (nonlinear, and a cross term).

    The issue sets no bar for regression. With tanh units both models are stable across
    random initialisations (R² 0.93-0.96, differences within ±0.03 over repeated runs; with
    relu single runs ranged 0.79-0.96 from dead units, on both sides alike)."""
    rng = np.random.default_rng(7)
    xg, xh = rng.normal(size=(2000, 4)), rng.normal(size=(2000, 5))
    y = 3.0 * np.tanh(xg[:, 0]) + xg[:, 1] * xh[:, 0] + 2.0 * np.abs(xh[:, 1]) \
        + 0.3 * rng.normal(size=2000) + 10.0
    params = HeteroNNParams(task="regression", activation="tanh", epochs=40, learning_rate=0.05)
    r2, base = _compare(params, Split(xg, xh, y))
    print(f"regression r2={r2:.4f} central={base:.4f}")
    assert r2 >= base - 0.05
    assert r2 > 0.9
