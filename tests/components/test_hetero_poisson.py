"""``hetero_poisson`` then ``predict`` (issue 24): the exposure column is the guest's, not a
feature, and predictions are rates."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.evaluate import Evaluate
from coalition.components.hetero_poisson import HeteroPoisson
from coalition.components.predict import Predict
from coalition.core import Party
from coalition.crypto.paillier import InsecureKeyWarning

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")


@pytest.mark.parametrize("protocol", ["he-arbiter", "ss"])
def test_poisson_component_with_exposure_then_predict(run_component, protocol):
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=(n, 4))
    years = rng.uniform(0.2, 1.0, n)
    y = rng.poisson(years * np.exp(-1.0 + x @ np.array([0.4, -0.3, 0.3, 0.2]))).astype(float)
    ids = [f"c{i}" for i in range(n)]
    guest = Dataset(pd.DataFrame({"id": ids, "claims": y, "age": x[:, 0], "value": x[:, 1],
                                  "years": years}), "id", "claims")
    host = Dataset(pd.DataFrame({"id": ids, "night": x[:, 2], "phone": x[:, 3]}), "id")
    params = {"epochs": 3, "batch_size": 100, "optimizer": "momentum", "learning_rate": 0.05,
              "key_bits": 1024, "allow_insecure_key": True, "protocol": protocol}
    fit = run_component(HeteroPoisson, {G: {**params, "exposure_column": "years"}, H: params,
                                        A: params},
                        {G: {"train_data": guest}, H: {"train_data": host}})
    assert fit[G]["model"].data["feature_names"] == ["age", "value"]  # exposure is no feature
    assert fit[G]["model"].data["task"] == "poisson"
    assert fit[G]["model"].data["protocol"] == protocol  # the same artifact either way
    assert set(fit[G]["model"].data) == {"kind", "role", "task", "protocol", "feature_names",
                                         "weights", "intercept", "scaler", "meta"}
    assert fit[G]["metrics"].values["mean_deviance"] > 0
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": guest},
                            H: {"model": fit[H]["model"], "data": host}})
    frame = scored[G]["predictions"].frame
    rates = frame["score"].to_numpy()
    assert np.all(rates > 0) and 0.2 < rates.mean() < 1.0
    by_id = dict(zip(ids, years, strict=True))
    assert np.allclose(frame["expected"], rates * np.array([by_id[i] for i in frame["id"]]))
    metrics = run_component(Evaluate, {G: {"task": "poisson", "score_column": "expected"}},
                            {G: {"data": scored[G]["predictions"]}})[G]["metrics"].values
    assert 0 < metrics["poisson_deviance"] < 2.0 and "rmse" in metrics
