"""Differential privacy as component parameters: client-level DP of ``homo_lr``/``homo_nn``
(ε and δ in the aggregator's metrics) and label DP of the vertical models."""

import pandas as pd
import pytest

from coalition.components import REGISTRY, Dataset
from coalition.components.homo import HomoLR
from coalition.core import ConfigError, Party
from coalition.protocols.horizontal import DPConfig
from coalition.protocols.horizontal.dp import PrivacyAccountant

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
