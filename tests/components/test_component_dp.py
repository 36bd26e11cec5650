"""Differential privacy as component parameters: client-level DP of ``homo_lr``/``homo_nn``
(ε and δ in the aggregator's metrics) and label DP of the vertical models."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from coalition.components import REGISTRY, Dataset
from coalition.components.hetero_lr import HeteroLR
from coalition.components.hetero_secureboost import HeteroSecureBoost
from coalition.components.homo import HomoLR
from coalition.core import ConfigError, InputError, Party
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.horizontal import DPConfig
from coalition.protocols.horizontal.dp import PrivacyAccountant
from coalition.protocols.label_dp import keep_probability, randomised_response
from coalition.protocols.linear import LinearModelPart

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")


def test_a_job_sets_dp_and_reads_epsilon_in_the_metrics(fate_data, run_component) -> None:
    def homo(name: str) -> Dataset:
        return Dataset(pd.read_csv(fate_data / name, dtype={"id": str}), "id", "y")

    params = {"rounds": 3, "dp": {"clip_norm": 1.0, "noise_multiplier": 1.0, "delta": 1e-6}}
    out = run_component(HomoLR, {G: params, H: params, A: params},
                        {G: {"train_data": homo("breast_homo_guest.csv")},
                         H: {"train_data": homo("breast_homo_host.csv")}})
    metrics = out[A]["metrics"].values
    expected = PrivacyAccountant(DPConfig(clip_norm=1.0, noise_multiplier=1.0, delta=1e-6),
                                 2, 2)
    for _ in range(3):
        eps = expected.step(2)
    assert metrics["epsilon"] == pytest.approx(eps) and metrics["delta"] == 1e-6
    component = REGISTRY.get("homo_lr")
    assert "dp" in REGISTRY.describe("homo_lr")["parameters"]["properties"]
    with pytest.raises(ConfigError):  # client noise protects the sum only under SecAgg
        component.parse_params({"secure_aggregation": False, **params})
    with pytest.raises(ConfigError):  # no noise, no guarantee
        component.parse_params({"dp": {"clip_norm": 1.0, "noise_multiplier": 0.0}})


# -- label DP of the vertical models -------------------------------------------------------------


def test_randomised_response_keeps_labels_at_the_documented_rate() -> None:
    y = np.repeat([0.0, 1.0], 100_000)
    for epsilon in (0.5, 2.0):
        keep = keep_probability(epsilon, 2)
        assert keep == pytest.approx(math.exp(epsilon) / (math.exp(epsilon) + 1))
        noisy = randomised_response(y, epsilon, np.array([0.0, 1.0]))
        sd = math.sqrt(keep * (1 - keep) / y.size)
        assert abs(np.mean(noisy == y) - keep) < 5 * sd and noisy.dtype == y.dtype
    # K classes: a changed label is uniform over the other K - 1
    y3 = np.zeros(90_000, dtype=np.int64)
    noisy = randomised_response(y3, 1.0, np.arange(3))
    assert abs(np.mean(noisy == 0) - keep_probability(1.0, 3)) < 0.01
    assert abs(np.mean(noisy == 1) - np.mean(noisy == 2)) < 0.01
    with pytest.raises(InputError):
        randomised_response(np.array([0.0, 2.0]), 1.0, np.array([0.0, 1.0]))


def _vertical(fate_data, rows):
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv", dtype={"id": str}).head(rows)
    h = pd.read_csv(fate_data / "breast_hetero_host.csv", dtype={"id": str}).head(rows)
    return Dataset(g, "id", "y"), Dataset(h, "id")


def _lr_auc(fate_data, run_component, epsilon):
    g, h = _vertical(fate_data, 569)
    params = {"protocol": "ss", "epochs": 5, "batch_size": 64, "optimizer": "momentum",
              **({} if epsilon is None else {"label_dp_epsilon": epsilon})}
    fit = run_component(HeteroLR, {G: params, H: params, A: params},
                        {G: {"train_data": g}, H: {"train_data": h}})
    part = LinearModelPart.from_artifact(fit[G]["model"].data)
    host = LinearModelPart.from_artifact(fit[H]["model"].data)
    score = (part.partial_score(g.feature_matrix()) + host.partial_score(h.feature_matrix())
             + (part.intercept or 0.0))
    return roc_auc_score(g.labels(), score), fit[G]["metrics"].values, part


def test_label_dp_changes_hetero_lr_and_costs_accuracy_gracefully(fate_data, run_component):
    plain_auc, plain_metrics, plain = _lr_auc(fate_data, run_component, None)
    auc, metrics, part = _lr_auc(fate_data, run_component, 3.0)
    assert "label_dp_epsilon" not in plain_metrics
    assert metrics["label_dp_epsilon"] == 3.0
    assert metrics["label_dp_keep"] == pytest.approx(keep_probability(3.0, 2))
    assert not np.allclose(part.weights, plain.weights)  # the labels it trained on changed
    assert auc >= plain_auc - 0.05, (auc, plain_auc)  # AUC on the true labels
    with pytest.raises(ConfigError):  # randomised response needs classes
        REGISTRY.get("hetero_linr").parse_params({"label_dp_epsilon": 1.0})
    with pytest.raises(ConfigError):
        REGISTRY.get("hetero_lr").parse_params({"task": "linear", "label_dp_epsilon": 1.0})


def test_label_dp_for_secureboost(fate_data, run_component):
    g, h = _vertical(fate_data, 120)
    params = {"num_trees": 2, "max_depth": 2, "key_bits": 1024, "allow_insecure_key": True,
              "seed": 0, "label_dp_epsilon": 2.0}
    fit = run_component(HeteroSecureBoost, {G: params, H: params},
                        {G: {"train_data": g}, H: {"train_data": h}})
    metrics = fit[G]["metrics"].values
    assert metrics["label_dp_epsilon"] == 2.0 and metrics["trees"] == 2
    with pytest.raises(ConfigError):
        REGISTRY.get("hetero_secureboost").parse_params(
            {"objective": "reg:squarederror", "label_dp_epsilon": 1.0})


def _vehicle_accuracy(fate_data, run_component, epsilon):
    from coalition.components.hetero_lr_multiclass import HeteroLRMulticlass
    from coalition.components.predict import Predict

    guest = Dataset(pd.read_csv(fate_data / "vehicle_scale_hetero_guest.csv",
                                dtype={"id": str}), "id", "y")
    host = Dataset(pd.read_csv(fate_data / "vehicle_scale_hetero_host.csv",
                               dtype={"id": str}), "id")
    params = {"protocol": "ss", "epochs": 4, "batch_size": 128, "optimizer": "momentum",
              "feature_clip": 4.0, "averaging": "epoch",
              **({} if epsilon is None else {"label_dp_epsilon": epsilon})}
    fit = run_component(HeteroLRMulticlass, {G: params, H: params, A: params},
                        {G: {"train_data": guest}, H: {"train_data": host}})
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": guest},
                            H: {"model": fit[H]["model"], "data": host}})
    frame = scored[G]["predictions"].frame
    return float((frame["predicted_label"] == frame["y"]).mean()), fit[G]["metrics"].values


def test_label_dp_for_multiclass_lr(fate_data, run_component):
    plain, _ = _vehicle_accuracy(fate_data, run_component, None)
    noisy, metrics = _vehicle_accuracy(fate_data, run_component, 3.0)
    assert metrics["label_dp_epsilon"] == 3.0
    assert metrics["label_dp_keep"] == pytest.approx(keep_probability(3.0, 4))  # K = 4
    assert noisy >= plain - 0.08, (noisy, plain)
