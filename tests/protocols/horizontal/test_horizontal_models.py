"""Numpy models: gradients, training, the proximal term, artifacts; the optional torch adapter."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import ConfigError, InputError, ProtocolError
from coalition.protocols.horizontal import GlobalModel, ParamLayout
from coalition.protocols.horizontal.models import (
    MLP,
    LinearRegression,
    LogisticRegression,
    TrainConfig,
    build_model,
    roc_auc,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 5))
Y3 = RNG.integers(0, 3, 40)
Y2 = RNG.integers(0, 2, 40)
YR = X @ np.arange(5.0) + 0.5


@pytest.mark.parametrize(("model", "y"), [
    (LogisticRegression(5, l2=0.1), Y2),
    (LogisticRegression(5, n_classes=3), Y3),
    (LinearRegression(5, l2=0.01), YR),
    (MLP(5, 3, hidden=(4, 3), l2=0.01, seed=2), Y3),
])
def test_gradients_match_finite_differences(model, y) -> None:
    w = model.get_weights()
    w = {k: v + RNG.normal(0, 0.3, v.shape) for k, v in w.items()}
    _, grads = model._loss_grad(w, X, y)
    layout = ParamLayout.of(w)
    vec = layout.flatten(w)
    g = layout.flatten(grads)
    eps = 1e-6
    for i in RNG.choice(vec.size, min(8, vec.size), replace=False):
        up, down = vec.copy(), vec.copy()
        up[i] += eps
        down[i] -= eps
        num = (model._loss_grad(layout.unflatten(up), X, y)[0]
               - model._loss_grad(layout.unflatten(down), X, y)[0]) / (2 * eps)
        assert num == pytest.approx(g[i], rel=1e-4, abs=1e-7)


def test_training_reduces_loss_and_prox_keeps_close() -> None:
    free, prox = LogisticRegression(5, n_classes=3), LogisticRegression(5, n_classes=3)
    before = free.evaluate(X, Y3)["loss"]
    free.fit(X, Y3, TrainConfig(epochs=20, learning_rate=0.2), np.random.default_rng(0))
    prox.fit(X, Y3, TrainConfig(epochs=20, learning_rate=0.2, proximal_mu=5.0),
             np.random.default_rng(0))
    assert free.evaluate(X, Y3)["loss"] < before
    norm = lambda m: np.linalg.norm(ParamLayout.of(m.get_weights()).flatten(m.get_weights()))  # noqa: E731
    assert norm(prox) < norm(free)


def test_set_weights_checks_shapes() -> None:
    m = LogisticRegression(5)
    with pytest.raises(ProtocolError):
        m.set_weights({"weight": np.zeros((4, 1)), "bias": np.zeros(1)})
    with pytest.raises(ProtocolError):
        m.set_weights({"weight": np.full((5, 1), np.nan), "bias": np.zeros(1)})


def test_roc_auc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    s = np.round(RNG.normal(size=40), 1)  # with ties
    assert roc_auc(Y2, s) == pytest.approx(roc_auc_score(Y2, s))
    assert roc_auc(np.ones(3), np.arange(3)) is None


def test_build_model_from_description() -> None:
    m = MLP(5, 3, hidden=(4,))
    gm = GlobalModel(m.describe(), m.get_weights())
    np.testing.assert_array_equal(gm.predict(X), m.predict(X))
    with pytest.raises(ConfigError):
        build_model({"kind": "torch", "config": {}})


def test_torch_model_adapter() -> None:
    torch = pytest.importorskip("torch")
    from coalition.protocols.horizontal.models import TorchModel

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model = TorchModel(module)
    w = model.get_weights()
    assert all(v.dtype == np.float64 for v in w.values())
    before = model.evaluate(X, Y3)["loss"]
    model.fit(X, Y3, TrainConfig(epochs=30, learning_rate=0.1, proximal_mu=0.01),
              np.random.default_rng(0))
    assert model.evaluate(X, Y3)["loss"] < before
    model.set_weights(w)
    assert model.evaluate(X, Y3)["loss"] == pytest.approx(before, rel=1e-5)


def test_global_model_scores_classes_only_for_classifiers() -> None:
    clf = LogisticRegression(5, seed=1)
    scored = GlobalModel(clf.describe(), clf.get_weights()).predict_proba(X)
    np.testing.assert_allclose(scored, clf.predict_proba(X))
    reg = LinearRegression(5)
    with pytest.raises(InputError):
        GlobalModel(reg.describe(), reg.get_weights()).predict_proba(X)
