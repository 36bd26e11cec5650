"""``local_model`` (单边建模, issue 24): the guest's own scikit-learn model on its own columns,
as a component: the same model scikit-learn fits, nothing on the wire, plain-JSON parts that
serve, and a baseline next to the federated model in one DAG."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.preprocessing import StandardScaler

from coalition.components import REGISTRY, Dataset, Environment
from coalition.components.local_model import LocalModelComponent
from coalition.core import ConfigError, InputError, Party
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.engine.dag import parse_dag
from coalition.engine.standalone import StandaloneRunner
from coalition.engine.states import JobState
from coalition.engine.validate import validate_dag
from coalition.node.serving.scoring import guest_scorer
from coalition.protocols.local import LocalModel
from coalition.testing import PartyFailure, Recorder

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G = Party.guest("g")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs"


def _breast(fate_data):
    frame = pd.read_csv(fate_data / "breast_hetero_guest.csv", dtype={"id": str})
    return Dataset(frame.iloc[:400], "id", "y"), Dataset(frame.iloc[400:], "id", "y")


def test_logistic_is_sklearns_model_and_nothing_is_sent(fate_data, run_component):
    train, test = _breast(fate_data)
    rec = Recorder()
    out = run_component(LocalModelComponent, {G: {"model": "logistic"}},
                        {G: {"train_data": train, "test_data": test}}, wrap=rec.wrap)[G]
    assert rec.messages == []  # single-party: nothing crosses the wire
    x = train.feature_matrix()
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(max_iter=1000).fit(scaler.transform(x), train.labels())
    model = LocalModel.from_artifact(out["model"].data)
    assert np.allclose(model.coef, ref.coef_.ravel(), atol=1e-6)
    want = ref.predict_proba(scaler.transform(test.feature_matrix()))[:, 1]
    assert np.allclose(out["predictions"].frame["score"], want, atol=1e-9)
    assert out["metrics"].values["auc"] > 0.95
    # the part is plain JSON and the serving scorer gives the same scores
    scorer = guest_scorer(out["model"])
    assert scorer.vertical is False and scorer.feature_names == train.features
    assert np.allclose(scorer.combine(test.feature_matrix(), {}), want, atol=1e-9)


def test_poisson_with_exposure_is_sklearns_rate_model():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.normal(size=(n, 3))
    exposure = rng.uniform(0.2, 1.0, n)
    y = rng.poisson(exposure * np.exp(-1.5 + x @ np.array([0.4, -0.3, 0.2]))).astype(float)
    frame = pd.DataFrame({"id": [str(i) for i in range(n)], "claims": y, "x0": x[:, 0],
                          "x1": x[:, 1], "x2": x[:, 2], "exposure": exposure})
    data = Dataset(frame, "id", "claims")
    params = LocalModelComponent.parse_params(
        {"model": "poisson", "alpha": 0.0, "exposure_column": "exposure"})
    model = LocalModel.fit(params, x, y, ["x0", "x1", "x2"], exposure)
    scaler = StandardScaler().fit(x)
    ref = PoissonRegressor(alpha=0.0, max_iter=1000).fit(scaler.transform(x), y / exposure,
                                                         sample_weight=exposure)
    assert np.allclose(model.coef, ref.coef_, atol=1e-5)
    assert data.features == ["x0", "x1", "x2", "exposure"]  # the exposure is not a feature:
    from coalition.components.local_model import local_matrix
    assert local_matrix(data, params)[1] == ["x0", "x1", "x2"]


def test_bad_parameters_and_columns_are_typed_errors(fate_data, run_component):
    with pytest.raises(ConfigError):
        LocalModelComponent.parse_params({"model": "logistic", "exposure_column": "e"})
    train, _ = _breast(fate_data)
    with pytest.raises(PartyFailure) as info:
        run_component(LocalModelComponent, {G: {"columns": ["x0", "nope"]}},
                      {G: {"train_data": train}})
    assert isinstance(info.value.error, InputError)
    assert info.value.error.details.get("column") == "nope"
    schema = REGISTRY.get("local_model").Params.model_json_schema()
    assert {"model", "columns", "exposure_column"} <= set(schema["properties"])


def test_guest_alone_baseline_next_to_the_federated_model_in_one_dag(tmp_path):
    spec = importlib.util.spec_from_file_location("make_credit_data",
                                                  EXAMPLE / "make_credit_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_credit_data(tmp_path / "data", n_bank=500, n_telco=600, n_shared=400, seed=5)
    document = yaml.safe_load((EXAMPLE / "credit_risk.yaml").read_text())
    tasks = document["tasks"]
    for name in ("secureboost", "secureboost_predict", "secureboost_evaluate"):
        del tasks[name]
    tasks["lr"]["parameters"].update(epochs=3, batch_size=64)
    tasks["bank_alone"] = {"component": "local_model", "parameters": {"model": "logistic"},
                           "inputs": {"train_data": "split.train", "test_data": "split.test"}}
    tasks["bank_alone_evaluate"] = {"component": "evaluate", "parameters": {"task": "binary"},
                                    "inputs": {"data": "bank_alone.predictions"}}
    graph = validate_dag(parse_dag(document))
    runner = StandaloneRunner(graph, tmp_path / "work",
                              env=Environment(lambda r: tmp_path / r))
    report = runner.run()
    assert report.state is JobState.SUCCEEDED, report.error
    bank = Party.guest("bank")
    alone = runner.output("bank_alone_evaluate", bank, "metrics").values["auc"]
    joint = runner.output("lr_evaluate", bank, "metrics").values["auc"]
    assert 0.5 < alone < 1.0 and 0.5 < joint < 1.0
