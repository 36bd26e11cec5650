"""``homo_gbdt`` on the in-memory hub: every party ends with the same trees, the client with
test data scores it, a client sends column names and masked vectors only, and the model part
loads for serving."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import REGISTRY, Dataset
from coalition.components.homo import SCHEMA
from coalition.components.homo_gbdt import HomoGBDT
from coalition.core import ConfigError, Party
from coalition.protocols.horizontal.gbdt import GBDTModel
from coalition.testing import Recorder, find_leaks

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")


def _homo(fate_data, name):
    return Dataset(pd.read_csv(fate_data / name, dtype={"id": str}), "id", "y")


def test_homo_gbdt_gives_everyone_the_trees(fate_data, run_component):
    g, h = _homo(fate_data, "breast_homo_guest.csv"), _homo(fate_data, "breast_homo_host.csv")
    test = _homo(fate_data, "breast_homo_test.csv")
    params = {"n_trees": 5, "max_depth": 3, "min_samples_leaf": 5}
    rec = Recorder()
    out = run_component(HomoGBDT, {G: params, H: params, A: params},
                        {G: {"train_data": g, "test_data": test}, H: {"train_data": h}},
                        wrap=rec.wrap)
    parts = [out[p]["model"].data for p in (G, H, A)]
    assert all(p["trees"] == parts[0]["trees"] for p in parts[1:])
    assert parts[0]["feature_names"] == g.features
    assert out[A]["metrics"].values["trees"] == 5
    preds = out[G]["predictions"].frame
    assert len(preds) == len(test.frame) and preds["score"].between(0, 1).all()
    hits = ((preds["score"] >= 0.5) == (preds["y"] == 1)).mean()
    assert hits > 0.9
    model = GBDTModel.from_artifact(parts[0])
    np.testing.assert_allclose(model.predict_proba(test.feature_matrix()), preds["score"])
    assert find_leaks(rec.sent_by(G), g.feature_matrix().ravel().tolist()) == []
    schema = [m.value() for m in rec.sent_by(G) if m.key.endswith(SCHEMA.name)]
    assert schema == [g.features]


def test_homo_gbdt_parameters_are_checked_at_validation():
    component = REGISTRY.get("homo_gbdt")
    assert component.parse_params({"n_trees": 3}).protocol_params().secagg is not None
    for bad in ({"max_depth": 0}, {"secagg": {"threshold_fraction": 0.01}}, {"max_bins": 1}):
        with pytest.raises(ConfigError):
            component.parse_params(bad)
    schema = REGISTRY.describe("homo_gbdt")["parameters"]["properties"]
    assert {"n_trees", "max_depth", "learning_rate", "max_bins", "suite"} <= set(schema)


def test_homo_gbdt_runs_in_a_dag_with_evaluate(fate_data, tmp_path):
    from coalition.components import Environment
    from coalition.engine.dag import parse_dag
    from coalition.engine.standalone import StandaloneRunner
    from coalition.engine.states import JobState
    from coalition.engine.validate import validate_dag

    document = {"version": 1, "name": "homo_gbdt", "parties": {
        "guest": ["north", "south"], "arbiter": ["coordinator"]}, "tasks": {
        # horizontal: every client holds labels, so every client is a guest
        "read": {"component": "reader", "roles": ["guest"], "party_parameters": {
            "guest:north": {"path": "breast_homo_guest.csv", "label_column": "y"},
            "guest:south": {"path": "breast_homo_host.csv", "label_column": "y"}}},
        "read_test": {"component": "reader", "roles": ["guest"], "parameters": {
            "path": "breast_homo_test.csv", "label_column": "y"}},
        "trees": {"component": "homo_gbdt",
                  "parameters": {"n_trees": 4, "max_depth": 2, "min_samples_leaf": 5},
                  "inputs": {"train_data": "read.data", "test_data": "read_test.data"}},
        "score": {"component": "evaluate", "roles": ["guest"],
                  "inputs": {"data": "trees.predictions"}}}}
    graph = validate_dag(parse_dag(document))
    runner = StandaloneRunner(graph, tmp_path / "work", env=Environment(lambda r: fate_data / r))
    report = runner.run()
    assert report.state is JobState.SUCCEEDED, report.error
    assert runner.output("score", Party.guest("north"), "metrics").values["auc"] > 0.95
    assert runner.output("trees", Party.arbiter("coordinator"), "metrics").values["trees"] == 4
