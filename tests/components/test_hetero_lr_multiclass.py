"""``hetero_lr_multiclass`` then ``predict`` then ``evaluate`` (issue 24), on the in-memory hub."""

import pandas as pd

from coalition.components import Dataset
from coalition.components.evaluate import Evaluate
from coalition.components.hetero_lr_multiclass import HeteroLRMulticlass
from coalition.components.predict import Predict
from coalition.core import Party

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")


def test_multiclass_component_predicts_class_values(fate_data, run_component):
    g = pd.read_csv(fate_data / "vehicle_scale_hetero_guest.csv", dtype={"id": str})
    h = pd.read_csv(fate_data / "vehicle_scale_hetero_host.csv", dtype={"id": str})
    g["y"] = g["y"] + 10  # class values that are not 0..K-1 indices
    guest, host = Dataset(g, "id", "y"), Dataset(h, "id")
    params = {"protocol": "ss", "epochs": 10, "batch_size": 64, "optimizer": "momentum",
              "feature_clip": 4.0, "averaging": "epoch"}
    fit = run_component(HeteroLRMulticlass, {G: params, H: params, A: params},
                        {G: {"train_data": guest}, H: {"train_data": host}})
    assert fit[G]["metrics"].values["classes"] == 4 and fit[A] == {}
    assert fit[H]["model"].data["classes"] is None
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": guest},
                            H: {"model": fit[H]["model"], "data": host}})
    preds = scored[G]["predictions"]
    assert set(preds.frame["predicted_label"]) <= {10.0, 11.0, 12.0, 13.0}
    assert [f"score_{k}" for k in range(4)] == [c for c in preds.frame if c.startswith("score")]
    report = run_component(Evaluate, {G: {"task": "multiclass"}}, {G: {"data": preds}})
    assert report[G]["metrics"].values["accuracy"] > 0.7
