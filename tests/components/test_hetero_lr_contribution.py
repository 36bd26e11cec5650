"""Vertical party-level Shapley with two hosts (``hetero_lr_contribution`` on the in-memory
hub, FATE's breast data): hetero_lr retrained on every coalition of hosts; a free-rider host
(random features) scores near zero, the honest host does not; efficiency holds exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.hetero_lr_contribution import NO_MODEL_AUC, HeteroLRContribution
from coalition.core import Party
from coalition.testing import Recorder, find_leaks

G, H, R, A = Party.guest("g"), Party.host("h"), Party.host("rider"), Party.arbiter("a")


def _split(frame: pd.DataFrame, label: bool) -> tuple[Dataset, Dataset]:
    train, test = frame.iloc[:380], frame.iloc[380:]
    return (Dataset(train.reset_index(drop=True), "id", "y" if label else None),
            Dataset(test.reset_index(drop=True), "id", "y" if label else None))


def test_two_hosts_free_rider_near_zero_and_efficiency(fate_data, run_component):
    guest = pd.read_csv(fate_data / "breast_hetero_guest.csv", dtype={"id": str})
    host = pd.read_csv(fate_data / "breast_hetero_host.csv", dtype={"id": str})
    # the guest keeps its two weakest columns, so the host's columns matter
    guest = guest[["id", "y", "x8", "x9"]]
    rng = np.random.default_rng(3)
    rider = pd.DataFrame({"id": host["id"], **{f"r{i}": rng.normal(size=len(host))
                                                for i in range(4)}})
    data = {G: _split(guest, True), H: _split(host, False), R: _split(rider, False)}
    params = {"epochs": 4, "batch_size": 128, "optimizer": "momentum"}
    rec = Recorder()
    out = run_component(HeteroLRContribution, dict.fromkeys([G, H, R, A], params),
                        {p: {"train_data": d[0], "test_data": d[1]} for p, d in data.items()},
                        wrap=rec.wrap)
    assert out[H] == {} and out[R] == {} and out[A] == {}
    report = out[G]["contributions"].content
    phi = report["scores"]
    values = report["values"]
    assert set(values) == {"guest_alone", "host:h", "host:rider", "host:h+host:rider"}
    assert sum(phi.values()) == pytest.approx(values["host:h+host:rider"] - NO_MODEL_AUC)
    assert phi["host:h"] > 0.05 and phi["guest:g"] > 0.05
    assert abs(phi["host:rider"]) < 0.2 * phi["host:h"]
    assert "3 federated hetero_lr trainings" in report["cost"]
    # a host sends nothing that contains its feature values
    for party, (train, _) in ((H, data[H]), (R, data[R])):
        assert find_leaks(rec.sent_by(party), train.feature_matrix().ravel().tolist()[:200]) == []


def test_more_than_six_parties_is_refused(run_component):
    hosts = [Party.host(f"h{i}") for i in range(6)]
    frame = pd.DataFrame({"id": ["a", "b"], "x": [0.0, 1.0], "y": [0, 1]})
    d = Dataset(frame, "id", "y")
    h = Dataset(frame.drop(columns=["y"]), "id")
    inputs = {G: {"train_data": d, "test_data": d}} | {
        p: {"train_data": h, "test_data": h} for p in hosts}
    with pytest.raises(Exception, match="six parties"):  # the refusal, raised at every party
        run_component(HeteroLRContribution, {p: {"protocol": "he-guest"} for p in [G, *hosts]},
                      inputs)
