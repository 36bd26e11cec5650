"""``hetero_nn`` then ``predict`` then ``evaluate`` (issue 24): split learning as components;
the arbiter deals in training, scoring takes guest and host only."""

from pathlib import Path

import pandas as pd
import pytest

from coalition.components import REGISTRY, Dataset
from coalition.components.base import Environment
from coalition.components.evaluate import Evaluate
from coalition.components.hetero_nn import HeteroNN
from coalition.components.predict import Predict
from coalition.core import ConfigError, Party
from coalition.crypto.suite import CryptoSuite

G, H, A = Party.guest("g"), Party.host("h"), Party.arbiter("a")
PARAMS = {"epochs": 15, "batch_size": 64}


@pytest.fixture(scope="module")
def breast(fate_data: Path) -> tuple[Dataset, Dataset]:
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv")
    h = pd.read_csv(fate_data / "breast_hetero_host.csv")
    return Dataset(g, "id", "y"), Dataset(h, "id")


def test_train_predict_evaluate(run_component, breast):
    guest, host = breast
    fit = run_component(HeteroNN, {G: PARAMS, H: PARAMS, A: PARAMS},
                        {G: {"train_data": guest}, H: {"train_data": host}})
    assert fit[G]["model"].data["meta"]["role"] == "guest"
    assert "bottom" in fit[H]["model"].data and "head" not in fit[H]["model"].data
    assert fit[G]["metrics"].values["final_loss"] < 0.2
    scored = run_component(Predict, {G: {}, H: {}},
                           {G: {"model": fit[G]["model"], "data": guest},
                            H: {"model": fit[H]["model"], "data": host}})
    frame = scored[G]["predictions"].frame
    assert list(frame["id"]) == guest.ids()
    metrics = run_component(Evaluate, {G: {"task": "binary"}},
                            {G: {"data": scored[G]["predictions"]}})[G]["metrics"].values
    assert metrics["auc"] > 0.98


def test_training_without_arbiter_is_refused(run_component, breast):
    guest, host = breast
    with pytest.raises(Exception, match="arbiter"):
        run_component(HeteroNN, {G: PARAMS, H: PARAMS},
                      {G: {"train_data": guest}, H: {"train_data": host}})


def test_registry_schema_and_roles():
    cls = REGISTRY.get("hetero_nn")
    schema = cls.Params.model_json_schema()
    assert {"bottom_units", "interactive_units", "grad_noise", "label_dp_epsilon",
            "backend"} <= set(schema["properties"])
    assert schema["properties"]["backend"]["default"] == "numpy"
    with pytest.raises(ConfigError):
        cls.parse_params({"backend": "jax"})
    assert cls.roles_needed({}) == cls.roles
    with pytest.raises(ConfigError):
        cls.parse_params({"task": "regression", "label_dp_epsilon": 1.0})


def test_two_hosts_train_predict_evaluate(run_component, breast):
    """The host's columns split between two hosts; the guest's part records both."""
    guest, host = breast
    cols = [c for c in host.frame.columns if c != "id"]
    h1, h2 = Party.host("h1"), Party.host("h2")
    halves = {h1: Dataset(host.frame[["id", *cols[:10]]], "id"),
              h2: Dataset(host.frame[["id", *cols[10:]]], "id")}
    fit = run_component(HeteroNN, {G: PARAMS, h1: PARAMS, h2: PARAMS, A: PARAMS},
                        {G: {"train_data": guest}, **{h: {"train_data": d}
                                                      for h, d in halves.items()}})
    assert sorted(fit[G]["model"].data["r_inv"]) == ["h1", "h2"]
    scored = run_component(Predict, {G: {}, h1: {}, h2: {}},
                           {G: {"model": fit[G]["model"], "data": guest},
                            **{h: {"model": fit[h]["model"], "data": d}
                               for h, d in halves.items()}})
    metrics = run_component(Evaluate, {G: {"task": "binary"}},
                            {G: {"data": scored[G]["predictions"]}})[G]["metrics"].values
    assert metrics["auc"] > 0.98


def test_two_hosts_under_the_sm_suite(run_component, breast):
    """Issue 25: training, joint prediction and the hosts' masks under ``sm`` (SM2 mask keys,
    SM4-CTR triples and masks, SM3 alignment digests); a host on a ``standard`` node refuses
    to score with the ``sm`` part, naming the policy."""
    guest, host = breast
    cols = [c for c in host.frame.columns if c != "id"]
    h1, h2 = Party.host("h1"), Party.host("h2")
    halves = {h1: Dataset(host.frame[["id", *cols[:10]]], "id"),
              h2: Dataset(host.frame[["id", *cols[10:]]], "id")}
    sm = {**PARAMS, "epochs": 8, "suite": "sm"}
    fit = run_component(HeteroNN, {G: sm, h1: sm, h2: sm, A: sm},
                        {G: {"train_data": guest}, **{h: {"train_data": d}
                                                      for h, d in halves.items()}})
    assert fit[h1]["model"].data["meta"]["params"]["suite"] == "sm"
    inputs = {G: {"model": fit[G]["model"], "data": guest},
              **{h: {"model": fit[h]["model"], "data": d} for h, d in halves.items()}}
    scored = run_component(Predict, {G: {"suite": "sm"}, h1: {"suite": "sm"},
                                     h2: {"suite": "sm"}}, inputs,
                           env=Environment(crypto_suite=CryptoSuite.SM))
    metrics = run_component(Evaluate, {G: {"task": "binary"}},
                            {G: {"data": scored[G]["predictions"]}})[G]["metrics"].values
    assert metrics["auc"] > 0.98
    with pytest.raises(Exception, match="crypto suite"):
        run_component(Predict, {G: {}, h1: {}, h2: {}}, inputs,
                      env=Environment(crypto_suite=CryptoSuite.STANDARD))
