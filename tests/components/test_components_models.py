"""Training components on the in-memory hub: horizontal (homo_lr/homo_nn) and vertical
(hetero_lr, hetero_secureboost) with predict; model parts stay with their owner."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, ModelPart
from coalition.components.hetero_lr import HeteroLinR, HeteroLR
from coalition.components.hetero_secureboost import HeteroSecureBoost
from coalition.components.homo import SCHEMA, HomoLR, HomoNN
from coalition.components.predict import Predict
from coalition.core import ConfigError, InputError, Party
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.testing import PartyFailure, Recorder, find_leaks

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")


def _homo(fate_data, name):
    frame = pd.read_csv(fate_data / name, dtype={"id": str})
    return Dataset(frame, "id", "y")


@pytest.mark.parametrize("cls,extra", [(HomoLR, {}), (HomoNN, {"hidden": [4]})])
def test_homo_training_gives_everyone_the_global_model(fate_data, run_component, cls, extra):
    g, h = _homo(fate_data, "breast_homo_guest.csv"), _homo(fate_data, "breast_homo_host.csv")
    test = _homo(fate_data, "breast_homo_test.csv")
    params = {"rounds": 3, "learning_rate": 0.1, **extra}
    rec = Recorder()
    out = run_component(cls, {G: params, H: params, A: params},
                        {G: {"train_data": g, "test_data": test}, H: {"train_data": h}},
                        wrap=rec.wrap)
    weights = [out[p]["model"].data["weights"] for p in (G, H, A)]
    for w in weights[1:]:
        assert all(np.array_equal(w[k], weights[0][k]) for k in weights[0])
    assert set(out[H]) == {"model"} and set(out[A]) == {"model", "metrics"}
    preds = out[G]["predictions"].frame
    assert len(preds) == len(test.frame) and preds["score"].between(0, 1).all()
    # privacy: a client sends column names and model updates, never its rows
    assert find_leaks(rec.sent_by(G), g.feature_matrix().ravel().tolist()) == []
    schema = [m.value() for m in rec.sent_by(G) if m.key.endswith(SCHEMA.name)]
    assert schema == [g.features]


def test_homo_refuses_clients_with_different_columns(fate_data, run_component):
    g, h = _homo(fate_data, "breast_homo_guest.csv"), _homo(fate_data, "breast_homo_host.csv")
    h = Dataset(h.frame.drop(columns=["x0"]), "id", "y")
    with pytest.raises(Exception, match="columns differ"):
        run_component(HomoLR, {G: {}, H: {}, A: {}}, {G: {"train_data": g}, H: {"train_data": h}})


def _vertical(fate_data, rows=160):
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv", dtype={"id": str}).head(rows)
    h = pd.read_csv(fate_data / "breast_hetero_host.csv", dtype={"id": str}).head(rows)
    assert (g["id"] == h["id"]).all()
    return Dataset(g, "id", "y"), Dataset(h, "id")


def test_hetero_lr_then_predict(fate_data, run_component):
    g, h = _vertical(fate_data)
    params = {"epochs": 5, "batch_size": 64, "optimizer": "momentum"}
    fit = run_component(HeteroLR, {G: params, H: params, A: params},
                        {G: {"train_data": g}, H: {"train_data": h}})
    assert set(fit[A]) == set() and fit[G]["model"].role is G.role
    assert fit[G]["model"].data["feature_names"] == g.features
    assert fit[H]["model"].data["feature_names"] == h.features  # each part: own columns only
    assert "final_loss" in fit[G]["metrics"].values
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": g},
                            H: {"model": fit[H]["model"], "data": h}})
    preds = scored[G]["predictions"].frame
    assert scored[H] == {}
    acc = ((preds["score"] >= 0.5) == (preds["y"] == 1)).mean()
    assert acc > 0.85


def test_hetero_linr_forces_linear_task(run_component):
    assert HeteroLinR.parse_params({}).task == "linear"
    with pytest.raises(ConfigError):
        HeteroLinR.parse_params({"task": "logistic"})


def test_hetero_secureboost_then_predict(fate_data, run_component):
    g, h = _vertical(fate_data, rows=120)
    params = {"num_trees": 2, "max_depth": 2, "key_bits": 1024, "allow_insecure_key": True,
              "seed": 0}
    fit = run_component(HeteroSecureBoost, {G: params, H: params},
                        {G: {"train_data": g}, H: {"train_data": h}})
    assert fit[G]["metrics"].values["trees"] == 2
    assert fit[H]["model"].data["kind"] == "secureboost.host"
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": g},
                            H: {"model": fit[H]["model"], "data": h}})
    assert scored[G]["predictions"].frame["score"].between(0, 1).all()


@pytest.mark.parametrize("shuffle,advice", [(True, "another order"), (False, "run psi first")])
def test_hetero_secureboost_refuses_misaligned_rows_on_every_party(fate_data, run_component,
                                                                     shuffle, advice):
    g, h = _vertical(fate_data, rows=60)
    frame = h.frame.iloc[::-1] if shuffle else h.frame.iloc[1:]
    params = {"num_trees": 1, "max_depth": 2, "key_bits": 1024, "allow_insecure_key": True}
    with pytest.raises(PartyFailure) as info:
        run_component(HeteroSecureBoost, {G: params, H: params},
                      {G: {"train_data": g}, H: {"train_data": Dataset(frame, "id")}})
    assert isinstance(info.value.error, InputError) and advice in info.value.error.message


def test_hetero_secureboost_aligns_on_canonical_ids(fate_data, run_component):
    g, h = _vertical(fate_data, rows=60)
    padded = h.frame.assign(id=[f" {i.upper()} " for i in h.frame["id"]])
    params = {"num_trees": 1, "max_depth": 2, "key_bits": 1024, "allow_insecure_key": True}
    fit = run_component(HeteroSecureBoost, {G: params, H: params},
                        {G: {"train_data": g}, H: {"train_data": Dataset(padded, "id")}})
    assert fit[G]["metrics"].values["trees"] == 1


def test_secureboost_predict_checks_alignment_and_lr_labels_follow_canonical_ids(
        fate_data, run_component):
    """Issue 24: scoring a tree model on rows in another order fails on every party (it used
    to score mismatched rows), and an LR prediction over padded, upper-case guest IDs still
    carries each row's label (the lookup is by canonical ID)."""
    g, h = _vertical(fate_data, rows=60)
    params = {"num_trees": 1, "max_depth": 2, "key_bits": 1024, "allow_insecure_key": True}
    fit = run_component(HeteroSecureBoost, {G: params, H: params},
                        {G: {"train_data": g}, H: {"train_data": h}})
    flipped = Dataset(h.frame.iloc[::-1], "id")
    with pytest.raises(PartyFailure) as info:
        run_component(Predict, {G: {}, H: {}},
                      {G: {"model": fit[G]["model"], "data": g},
                       H: {"model": fit[H]["model"], "data": flipped}})
    assert isinstance(info.value.error, InputError)
    assert "another order" in info.value.error.message
    lr = {"epochs": 1, "batch_size": 30}
    fit = run_component(HeteroLR, {G: lr, H: lr, A: lr},
                        {G: {"train_data": g}, H: {"train_data": h}})
    padded = Dataset(g.frame.assign(id=[f" {i.upper()} " for i in g.frame["id"]]), "id", "y")
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": padded},
                            H: {"model": fit[H]["model"], "data": h}})
    preds = scored[G]["predictions"].frame
    want = dict(zip(g.frame["id"].str.strip().str.lower(), g.frame["y"], strict=True))
    assert [want[i] for i in preds["id"]] == preds["y"].tolist()


def test_predict_refuses_unknown_model_families(run_component):
    g = Dataset(pd.DataFrame({"id": ["a"], "x": [1.0]}), "id")
    bogus = ModelPart("homo_lr", G.role, {})
    with pytest.raises(Exception, match="cannot score"):
        run_component(Predict, {G: {}}, {G: {"model": bogus, "data": g}})
