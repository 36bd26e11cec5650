"""Jobs across three real node processes (bank: guest, telco: host, coordinator: arbiter),
connected with the local-cluster helper; every party runs in its own worker process and the
parties talk over the gRPC transport with per-job certificates."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest
import typer
import yaml
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from coalition.cli import job as job_cli
from coalition.client import RemoteError
from coalition.demo.cluster import Cluster, NodeHandle, start_cluster
from coalition.engine.synthetic import make_credit_scenario

pytestmark = pytest.mark.slow

ORGS = ("bank", "telco", "coordinator")
INSURER = "insurer"  # a second feature provider, for split learning with two hosts
FINAL = {"succeeded", "failed", "cancelled"}
KINDS = ["hetero_lr", "predict", "psi"]


def dag(lr_epochs: int = 2, *, telco_dataset: str = "telco") -> dict[str, Any]:
    """Read -> PSI -> HE logistic regression (key at the arbiter) -> predict -> evaluate."""
    return {
        "version": 1, "name": "credit",
        "parties": {"guest": ["bank"], "host": ["telco"], "arbiter": ["coordinator"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"id_column": "phone"},
                     "role_parameters": {"guest": {"label_column": "default"}},
                     "party_parameters": {"guest:bank": {"path": "bank"},
                                          "host:telco": {"path": telco_dataset}}},
            "align": {"component": "psi", "parameters": {"protocol": "ecdh"},
                      "inputs": {"data": "read.data"}},
            "lr": {"component": "hetero_lr", "inputs": {"train_data": "align.data"},
                   "parameters": {"protocol": "he-arbiter", "key_bits": 1024,
                                  "allow_insecure_key": True, "epochs": lr_epochs,
                                  "batch_size": 512}},
            "predict": {"component": "predict",
                        "inputs": {"model": "lr.model", "data": "align.data"}},
            "evaluate": {"component": "evaluate", "parameters": {"task": "binary"},
                         "inputs": {"data": "predict.predictions"}},
        },
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    data = root / "data"
    data.mkdir()
    scenario = make_credit_scenario(300, 350, 200, seed=7)
    scenario.bank.to_csv(data / "bank.csv", index=False)
    scenario.telco.to_csv(data / "telco.csv", index=False)
    scenario.telco.to_csv(data / "telco_secret.csv", index=False)
    scenario.telco.to_csv(data / "telco_new.csv", index=False)
    with start_cluster(root, (*ORGS, INSURER), data_dirs=[data],
                       fast_password_hashing=True) as made:
        made.register_dataset("bank", "bank", data / "bank.csv", id_column="phone",
                              label_column="default")
        for name in ("telco", "telco_secret", "telco_new"):
            made.register_dataset("telco", name, data / f"{name}.csv", id_column="phone")
        made.grant("telco", "telco", to="bank", kinds=KINDS)
        yield made


def wait(node: NodeHandle, job_id: str, until: set[str] = FINAL,
         deadline_s: float = 240) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    while True:
        job: dict[str, Any] = node.call("GET", f"/jobs/{job_id}")
        if job["state"] in until or time.monotonic() > end:
            return job
        time.sleep(0.3)


def wait_task(node: NodeHandle, job_id: str, task: str, state: str) -> None:
    end = time.monotonic() + 240
    while time.monotonic() < end:
        job = node.call("GET", f"/jobs/{job_id}")
        if {t["name"]: t["state"] for t in job["tasks"]}[task] == state or job["state"] in FINAL:
            return
        time.sleep(0.2)


def states(job: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["state"] for t in job["tasks"]}


def workers(node: NodeHandle, job_id: str) -> list[psutil.Process]:
    """Live worker processes of ``node`` for ``job_id``."""
    found = []
    for child in psutil.Process(node.process.pid).children():
        try:
            if any(f"{job_id}" in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def specs(node: NodeHandle, job_id: str) -> set[str]:
    """Worker specs ``node`` wrote for ``job_id`` (one per party and task it ran)."""
    folder = node.home / "jobs" / job_id / "work"
    return {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()


def test_three_node_job_runs_and_rerun_reuses_upstream(cluster: Cluster) -> None:
    bank = cluster["bank"]
    job = bank.call("POST", "/jobs", json={"dag": dag(), "timeout_s": 60})
    assert job["state"] in ("pending", "running")
    done = wait(bank, job["id"])
    assert done["state"] == "succeeded", done
    assert set(states(done).values()) == {"succeeded"}
    assert {o["org"]: o["status"] for o in done["organisations"]} == dict.fromkeys(ORGS,
                                                                                  "accepted")
    # The participants mirror the initiator's states; each ran only its own parties.
    for org in ("telco", "coordinator"):
        assert wait(cluster[org], job["id"])["state"] == "succeeded"
    assert specs(cluster["coordinator"], job["id"]) == {"lr.arbiter-coordinator.json"}
    assert "read.host-telco.json" in specs(cluster["telco"], job["id"])
    assert not any("telco" in s for s in specs(bank, job["id"]))
    # Dataset outputs are registered as derived datasets on their owner's node only.
    telco_sets = {d["name"] for d in cluster["telco"].call("GET", "/datasets")}
    assert any(n.startswith("align.data.") for n in telco_sets)
    assert not any(n.startswith("align.data.") for n in
                   {d["name"] for d in cluster["coordinator"].call("GET", "/datasets")})
    # Metrics flow to the initiator: AUC from evaluate, sizes from PSI.
    names = {m["name"] for m in bank.call("GET", f"/jobs/{job['id']}/metrics")}
    assert {"auc", "loss"} <= names
    # The console's views (issue 21): each party's own report at the initiator, the DAG
    # document for cloning (a participant holds exactly what was proposed to it), usage.
    parties = {t["name"]: {p["party"]: (p["state"], p["reported"]) for p in t["parties"]}
               for t in done["tasks"]}
    assert parties["lr"] == {"guest:bank": ("succeeded", True), "host:telco": ("succeeded", True),
                             "arbiter:coordinator": ("succeeded", True)}
    telco_view = cluster["telco"].call("GET", f"/jobs/{job['id']}")
    assert telco_view["dag"] == done["dag"] and set(done["dag"]["tasks"]) == set(states(done))
    # A participant knows its own parties' reports, not the others'.
    assert {(p["party"], p["reported"]) for t in telco_view["tasks"] for p in t["parties"]} == {
        ("guest:bank", False), ("host:telco", True), ("arbiter:coordinator", False)}
    assert [a["job_id"] for a in done["tasks"][0]["attempts"]] == [job["id"]]
    used = cluster["telco"].call("GET", "/jobs", params={"dataset": "telco"})
    assert job["id"] in {j["id"] for j in used}
    assert cluster["telco"].call("GET", "/jobs", params={"dataset": "telco_secret"}) == []
    # not read by a party bank runs
    assert bank.call("GET", "/jobs", params={"dataset": "telco"}) == []
    # The event stream replays the job and ends.
    with httpx.Client(base_url=f"{bank.url}/api/v1", timeout=30,
                      headers={"Authorization": f"Bearer {bank.token}"}) as client:
        text = client.get(f"/jobs/{job['id']}/events").text
    assert "event: job" in text and "event: metric" in text and text.endswith(
        "event: end\ndata: {}\n\n")
    # Prometheus: the telco's share of the job as counted by its node (coalition.node.metrics).
    telco = cluster["telco"]
    with httpx.Client(base_url=telco.url, timeout=30,
                      headers={"Authorization": f"Bearer {telco.token}"}) as client:
        scraped = client.get("/metrics").text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(scraped) for s in f.samples}
    assert samples[("coalition_task_runs_total", (("component", "psi"), ("outcome", "ok")))] >= 1
    assert samples[("coalition_transport_bytes_total", (("direction", "sent"),))] > 0
    assert samples[("coalition_transport_bytes_total", (("direction", "received"),))] > 0
    assert samples[("coalition_worker_exits_total", (("outcome", "ok"),))] >= 3
    assert samples[("coalition_worker_processes", ())] == 0
    assert samples[("coalition_jobs", (("state", "succeeded"),))] >= 1

    # The CLI follows the same job through the API (watch ends at once: the job is over).
    env = {"COALITION_NODE_URL": bank.url, "COALITION_TOKEN": bank.token}
    app = typer.Typer()
    job_cli.register(app)
    shown = CliRunner().invoke(app, ["job", "watch", job["id"]], env=env)
    assert shown.exit_code == 0 and "auc" in shown.output, shown.output
    listed = CliRunner().invoke(app, ["job", "status", job["id"], "--json"], env=env)
    assert json.loads(listed.output)["state"] == "succeeded"
    exported = CliRunner().invoke(app, ["job", "dag", job["id"]], env=env)
    assert exported.exit_code == 0 and yaml.safe_load(exported.output) == done["dag"]

    rerun = bank.call("POST", f"/jobs/{job['id']}/rerun", json={"from": "predict"})
    assert rerun["rerun_of"] == job["id"]
    again = wait(bank, rerun["id"])
    assert again["state"] == "succeeded", again
    assert states(again) == {"read": "reused", "align": "reused", "lr": "reused",
                             "predict": "succeeded", "evaluate": "succeeded"}
    runs = {t["name"]: [(a["job_id"], a["state"]) for a in t["attempts"]] for t in again["tasks"]}
    assert runs["predict"] == [(job["id"], "succeeded"), (rerun["id"], "succeeded")]
    assert runs["lr"] == [(job["id"], "succeeded"), (rerun["id"], "reused")]
    # No worker was started for the reused tasks on any node.
    ran = set().union(*(specs(cluster[o], rerun["id"]) for o in ORGS))
    assert ran == {"predict.guest-bank.json", "predict.host-telco.json",
                   "evaluate.guest-bank.json"}


def test_rejected_grant_stops_the_job_before_any_data_is_read(cluster: Cluster) -> None:
    bank, telco = cluster["bank"], cluster["telco"]
    telco.call("PUT", "/datasets/telco_secret/partners/bank")
    asked = bank.call("POST", "/partners/telco/grant-requests", json={
        "dataset": "telco_secret", "purpose": "scoring", "component_kinds": KINDS,
        "valid_until": _in_days(10)})
    telco.call("POST", f"/grants/{asked['id']}/reject", json={"reason": "not for scoring"})
    job = bank.call("POST", "/jobs", json={"dag": dag(telco_dataset="telco_secret")})
    done = wait(bank, job["id"])
    assert done["state"] == "failed"
    assert "rejected by telco" in done["error"] and "not for scoring" in done["error"]
    assert set(states(done).values()) == {"cancelled"}
    assert wait(telco, job["id"])["state"] == "failed"
    for org in ORGS:  # no worker ran anywhere: nothing read the data
        assert specs(cluster[org], job["id"]) == set()


def _in_days(days: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + days * 86400))


def test_job_without_grant_waits_for_approval_then_runs(cluster: Cluster) -> None:
    bank, telco = cluster["bank"], cluster["telco"]
    # shared but not granted: a person decides (an unshared dataset is refused outright,
    # with the same answer as a missing one)
    telco.call("PUT", "/datasets/telco_new/partners/bank")
    document = dag(telco_dataset="telco_new")
    for name in ("lr", "predict", "evaluate"):
        del document["tasks"][name]
    job = bank.call("POST", "/jobs", json={"dag": document})
    assert wait(bank, job["id"], {"waiting_approval", *FINAL})["state"] == "waiting_approval"
    assert wait(telco, job["id"], {"waiting_approval"})["state"] == "waiting_approval"
    telco.call("POST", f"/jobs/{job['id']}/approve", json={"reason": "one-off"})
    assert wait(bank, job["id"])["state"] == "succeeded"


def _long_job(cluster: Cluster) -> str:
    """A job whose ``lr`` task runs long enough to interfere with (upstream reused)."""
    job = cluster["bank"].call("POST", "/jobs", json={"dag": dag(lr_epochs=500),
                                                      "only": "lr", "timeout_s": 60})
    wait_task(cluster["bank"], job["id"], "lr", "running")
    end = time.monotonic() + 60
    while not workers(cluster["telco"], job["id"]) and time.monotonic() < end:
        time.sleep(0.1)
    return str(job["id"])


def test_cancel_from_a_participant_stops_the_job_everywhere(cluster: Cluster) -> None:
    job_id = _long_job(cluster)
    cluster["telco"].call("POST", f"/jobs/{job_id}/cancel", json={"reason": "enough"})
    done = wait(cluster["bank"], job_id)
    assert done["state"] == "cancelled"
    assert states(done)["lr"] == "cancelled"
    for org in ORGS:
        assert wait(cluster[org], job_id)["state"] == "cancelled"
    end = time.monotonic() + 30
    while any(workers(cluster[o], job_id) for o in ORGS) and time.monotonic() < end:
        time.sleep(0.2)
    assert not any(workers(cluster[o], job_id) for o in ORGS)


def test_killed_worker_fails_the_job_with_the_cause(cluster: Cluster) -> None:
    job_id = _long_job(cluster)
    (victim,) = workers(cluster["telco"], job_id)
    os.kill(victim.pid, signal.SIGKILL)
    done = wait(cluster["bank"], job_id)
    assert done["state"] == "failed"
    assert "host:telco" in done["error"] and "SIGKILL" in done["error"], done["error"]
    assert states(done)["lr"] == "failed"
    assert wait(cluster["coordinator"], job_id)["state"] == "failed"


def test_a_node_restart_fails_its_running_job_which_can_be_rerun(cluster: Cluster) -> None:
    job_id = _long_job(cluster)
    cluster["telco"].process.kill()
    cluster["telco"].process.wait()
    cluster.restart("telco")
    telco_view = cluster["telco"].call("GET", f"/jobs/{job_id}")
    assert telco_view["state"] == "failed" and "restarted" in telco_view["error"]
    done = wait(cluster["bank"], job_id)
    assert done["state"] == "failed" and "telco restarted" in done["error"], done
    rerun = cluster["bank"].call("POST", f"/jobs/{job_id}/rerun", json={"until": "align"})
    again = wait(cluster["bank"], rerun["id"])
    assert again["state"] == "succeeded"
    assert states(again) == {"read": "succeeded", "align": "succeeded"}


SCORECARD_KINDS = ["psi", "feature_binning", "feature_woe", "hetero_lr", "scorecard",
                   "predict", "feature_transform", "feature_selection"]


def scorecard_dag() -> dict[str, Any]:
    """Raw CSVs (missing values, text columns) -> PSI, then two branches (issue 19;
    docs/feature_engineering.md): binning with WOE/IV -> WOE transform -> SS-LR -> scorecard
    -> predict, and impute/encode/scale/cap -> selection -> SS-LR -> predict."""
    return {
        "version": 1, "name": "credit_scorecard",
        "parties": {"guest": ["bank"], "host": ["telco"], "arbiter": ["coordinator"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"id_column": "phone"},
                     "role_parameters": {"guest": {"label_column": "default"}},
                     "party_parameters": {"guest:bank": {"path": "bank_raw"},
                                          "host:telco": {"path": "telco_raw"}}},
            "align": {"component": "psi", "parameters": {"protocol": "ecdh"},
                      "inputs": {"data": "read.data"}},
            "binning": {"component": "feature_binning", "inputs": {"data": "align.data"},
                        "parameters": {"bins": 4, "key_bits": 1024,
                                       "allow_insecure_key": True}},
            "woe": {"component": "feature_woe",
                    "inputs": {"bins": "binning.model", "data": "align.data"}},
            "lr": {"component": "hetero_lr", "inputs": {"train_data": "woe.data"},
                   "parameters": {"protocol": "ss", "epochs": 3, "batch_size": 64}},
            "card": {"component": "scorecard", "inputs": {"woe": "woe.model", "lr": "lr.model"}},
            "predict": {"component": "predict",
                        "inputs": {"model": "card.model", "data": "align.data"}},
            "transform": {"component": "feature_transform", "inputs": {"data": "align.data"},
                          "parameters": {"impute": "mean", "encode": "onehot",
                                         "scale": "standard", "cap_quantiles": [0.01, 0.99]}},
            "select": {"component": "feature_selection", "inputs": {"data": "transform.data"},
                       "party_parameters": {"guest:bank": {"manual_drop": ["late_loans"]},
                                            "host:telco": {"manual_drop": ["device_price"]}}},
            "tlr": {"component": "hetero_lr", "inputs": {"train_data": "select.data"},
                    "parameters": {"protocol": "ss", "epochs": 3, "batch_size": 64}},
            "tpredict": {"component": "predict",
                         "inputs": {"model": "tlr.model", "data": "select.data"}},
        },
    }


@pytest.fixture(scope="module")
def raw_credit(cluster: Cluster) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The bank's and the telco's raw tables (text columns, missing values), registered with
    online sources, and one job over them (both branches of :func:`scorecard_dag`)."""
    bank, telco = cluster["bank"], cluster["telco"]
    data = cluster.root / "data"
    scenario = make_credit_scenario(300, 350, 200, seed=7)
    raw_bank = scenario.bank.assign(
        employment=["salaried", "self-employed", "retired"] * 100)
    raw_bank.loc[raw_bank.index[::7], "income"] = None  # missing values, own bin
    raw_telco = scenario.telco.assign(plan=["basic", "plus", "max", "basic", "plus"] * 70)
    raw_telco.loc[raw_telco.index[::9], "data_gb"] = None
    raw_bank.to_csv(data / "bank_raw.csv", index=False)
    raw_telco.to_csv(data / "telco_raw.csv", index=False)
    cluster.register_dataset("bank", "bank_raw", data / "bank_raw.csv", id_column="phone",
                             label_column="default")
    cluster.register_dataset("telco", "telco_raw", data / "telco_raw.csv", id_column="phone")
    cluster.grant("telco", "telco_raw", to="bank", kinds=SCORECARD_KINDS)
    bank.call("POST", "/online-sources", json={"name": "bank-online", "dataset": "bank_raw"})
    telco.call("POST", "/online-sources", json={"name": "telco-online", "dataset": "telco_raw"})
    job = bank.call("POST", "/jobs", json={"dag": scorecard_dag(), "timeout_s": 60})
    done = wait(bank, job["id"])
    assert done["state"] == "succeeded", done
    return raw_bank, raw_telco, str(job["id"])


def _job_scores(bank: NodeHandle, job_id: str, task: str, column: str) -> dict[str, float]:
    """The job's own predictions of ``task`` (a derived dataset on the bank), by ID."""
    [out] = [d for d in bank.call("GET", "/datasets")
             if d["name"].startswith(f"{task}.predictions")
             and f"job {job_id}," in d.get("description", "")]
    batch = pd.read_parquet(out["location"])
    return dict(zip(batch["phone"].astype(str), batch[column], strict=True))


def _shared_ids(raw_credit: tuple[pd.DataFrame, pd.DataFrame, str]) -> list[str]:
    raw_bank, raw_telco, _ = raw_credit
    return sorted(set(raw_bank["phone"].astype(str)) & set(raw_telco["phone"].astype(str)))


def test_credit_scorecard_from_raw_csvs_to_a_deployed_service(
        cluster: Cluster, raw_credit: tuple[pd.DataFrame, pd.DataFrame, str]) -> None:
    bank = cluster["bank"]
    job_id = raw_credit[2]
    # The bank publishes the scorecard (its part and the telco's, each on its own node) and
    # serves it from the raw tables: text and missing values are binned at request time.
    published = bank.call("POST", "/models", json={
        "name": "card", "source": {"job_id": job_id, "task": "card"}})
    assert published["component"] == "scorecard"
    bank.call("POST", "/services", json={"name": "card", "model": "card", "source": "bank-online",
                                         "hosts": {"telco": "telco-online"}})
    ids = _shared_ids(raw_credit)[:8]
    online = bank.call("POST", "/services/card/predict", json={"ids": ids})
    # The job's own predictions (points column) agree with the service.
    points = _job_scores(bank, job_id, "predict", "points")
    np.testing.assert_allclose(online["scores"], [points[i] for i in ids], rtol=0, atol=1e-6)
    assert min(online["scores"]) > 300 and max(online["scores"]) < 900


def test_fitted_transforms_score_alike_in_batch_offline_and_online(
        cluster: Cluster, raw_credit: tuple[pd.DataFrame, pd.DataFrame, str]) -> None:
    """reader -> psi -> feature_transform -> feature_selection -> hetero_lr, published and
    served from raw rows: each party applies its own fitted chain (issue 19)."""
    bank = cluster["bank"]
    raw_bank, _, job_id = raw_credit
    bank.call("POST", "/models", json={"name": "tlr",
                                        "source": {"job_id": job_id, "task": "tlr"}})
    bank.call("POST", "/services", json={"name": "tlr", "model": "tlr", "source": "bank-online",
                                         "hosts": {"telco": "telco-online"}})
    shared = _shared_ids(raw_credit)
    ids = shared[:6] + [i for i in shared if i in set(
        raw_bank.loc[raw_bank["income"].isna(), "phone"].astype(str))][:2]
    batch = _job_scores(bank, job_id, "tpredict", "score")
    expected = [batch[i] for i in ids]
    online = bank.call("POST", "/services/tlr/predict", json={"ids": ids})
    np.testing.assert_allclose(online["scores"], expected, rtol=0, atol=1e-9)
    # Offline: the raw tables scored in one go, each party through its own chain.
    bank.call("POST", "/predictions", json={"model": "tlr", "dataset": "bank_raw",
                                            "hosts": {"telco": "telco_raw"},
                                            "output": "tlr_offline"})
    [offline] = [d for d in bank.call("GET", "/datasets") if d["name"] == "tlr_offline"]
    scored = pd.read_parquet(offline["location"])
    by_id = dict(zip(scored["phone"].astype(str), scored["score"], strict=True))
    np.testing.assert_allclose([by_id[i] for i in ids], expected, rtol=0, atol=1e-9)
    # The guest's raw features in the request body: text as strings, missing as null.
    rows = raw_bank.set_index(raw_bank["phone"].astype(str)).loc[ids].drop(
        columns=["phone", "default"])
    body = [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
             for k, v in r.items()} for _, r in rows.iterrows()]
    assert any(b["income"] is None for b in body)
    sent = bank.call("POST", "/services/tlr/predict", json={"ids": ids, "features": body})
    np.testing.assert_allclose(sent["scores"], expected, rtol=0, atol=1e-9)
    unseen = bank.call("POST", "/services/tlr/predict", json={
        "ids": ids[:1], "features": [{**body[0], "employment": "astronaut"}]})
    assert np.isfinite(unseen["scores"][0]) and unseen["scores"][0] != expected[0]
    with pytest.raises(RemoteError) as err:
        bank.call("POST", "/services/tlr/predict", json={
            "ids": ids[:1], "features": [{**body[0], "employment": 3}]})
    assert err.value.status == 422 and err.value.details == {"column": "employment"}


def nn_dag() -> dict[str, Any]:
    """Read (rows already aligned, as after PSI) -> split learning with two hosts (the
    coordinator deals) -> predict (guest and hosts) -> evaluate (issue 24)."""
    return {
        "version": 1, "name": "credit_nn",
        "parties": {"guest": ["bank"], "host": ["telco", INSURER], "arbiter": ["coordinator"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"id_column": "phone"},
                     "role_parameters": {"guest": {"label_column": "default"}},
                     "party_parameters": {"guest:bank": {"path": "bank_nn"},
                                          "host:telco": {"path": "telco_nn"},
                                          f"host:{INSURER}": {"path": "insurer_nn"}}},
            "nn": {"component": "hetero_nn", "inputs": {"train_data": "read.data"},
                   "parameters": {"epochs": 10, "batch_size": 32}},
            "predict": {"component": "predict",
                        "inputs": {"model": "nn.model", "data": "read.data"}},
            "evaluate": {"component": "evaluate", "parameters": {"task": "binary"},
                         "inputs": {"data": "predict.predictions"}},
        },
    }


def test_split_learning_dag_with_two_hosts_across_nodes(cluster: Cluster) -> None:
    """Split learning across four node processes: the bank's labels, the telco's and the
    insurer's features (the telco's columns split between them), the coordinator dealing."""
    bank = cluster["bank"]
    data = cluster.root / "data"
    scenario = make_credit_scenario(300, 350, 200, seed=7)
    # the shared customers in one order on every side (what PSI delivers), to keep this short
    telco = scenario.telco.set_index("phone")
    shared = scenario.bank[scenario.bank["phone"].isin(telco.index)]
    shared.to_csv(data / "bank_nn.csv", index=False)
    rows = telco.loc[shared["phone"]]
    rows[["tenure_months", "monthly_bill", "data_gb"]].reset_index().to_csv(
        data / "telco_nn.csv", index=False)
    rows[["late_bills", "device_price"]].reset_index().to_csv(data / "insurer_nn.csv",
                                                               index=False)
    cluster.register_dataset("bank", "bank_nn", data / "bank_nn.csv", id_column="phone",
                             label_column="default")
    for org in ("telco", INSURER):
        cluster.register_dataset(org, f"{org}_nn", data / f"{org}_nn.csv", id_column="phone")
        cluster.grant(org, f"{org}_nn", to="bank", kinds=["hetero_nn", "predict"])
    job = bank.call("POST", "/jobs", json={"dag": nn_dag(), "timeout_s": 180})
    done = wait(bank, job["id"])
    assert done["state"] == "succeeded", done
    # The coordinator dealt in training only, and read no data; each host trained and scored.
    assert specs(cluster["coordinator"], job["id"]) == {"nn.arbiter-coordinator.json"}
    for org in ("telco", INSURER):
        assert {f"nn.host-{org}.json", f"predict.host-{org}.json"} <= specs(cluster[org],
                                                                            job["id"])
    metrics = {m["name"]: m["value"] for m in bank.call("GET", f"/jobs/{job['id']}/metrics")}
    assert metrics["auc"] > 0.6


def poisson_dag() -> dict[str, Any]:
    """Read (aligned rows) -> SS Poisson with exposure (the coordinator deals) -> predict ->
    evaluate (issue 24)."""
    return {
        "version": 1, "name": "claims",
        "parties": {"guest": ["bank"], "host": ["telco"], "arbiter": ["coordinator"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"id_column": "phone"},
                     "role_parameters": {"guest": {"label_column": "claims"}},
                     "party_parameters": {"guest:bank": {"path": "bank_claims"},
                                          "host:telco": {"path": "telco_claims"}}},
            "claims": {"component": "hetero_poisson", "inputs": {"train_data": "read.data"},
                       "parameters": {"protocol": "ss", "epochs": 6, "batch_size": 100,
                                      "optimizer": "momentum", "learning_rate": 0.05,
                                      "penalty": "none", "averaging": "epoch"},
                       "role_parameters": {"guest": {"exposure_column": "years"}}},
            "predict": {"component": "predict",
                        "inputs": {"model": "claims.model", "data": "read.data"}},
            "evaluate": {"component": "evaluate",
                         "parameters": {"task": "poisson", "score_column": "expected"},
                         "inputs": {"data": "predict.predictions"}},
        },
    }


def test_ss_poisson_dag_across_nodes_then_served_online(cluster: Cluster) -> None:
    """SS Poisson trains across three node processes; its parts publish and serve online and
    offline as HE Poisson's do (the same artifact), with the job's rates."""
    bank, telco = cluster["bank"], cluster["telco"]
    data = cluster.root / "data"
    rng = np.random.default_rng(8)
    n = 400
    x = rng.normal(size=(n, 4))
    years = rng.uniform(0.2, 1.0, n)
    claims = rng.poisson(years * np.exp(-1.0 + x @ np.array([0.4, -0.3, 0.3, 0.2])))
    ids = [f"+4470000{i:04d}" for i in range(n)]
    pd.DataFrame({"phone": ids, "claims": claims, "age": x[:, 0], "value": x[:, 1],
                  "years": years}).to_csv(data / "bank_claims.csv", index=False)
    pd.DataFrame({"phone": ids, "night": x[:, 2], "calls": x[:, 3]}).to_csv(
        data / "telco_claims.csv", index=False)
    cluster.register_dataset("bank", "bank_claims", data / "bank_claims.csv",
                             id_column="phone", label_column="claims")
    cluster.register_dataset("telco", "telco_claims", data / "telco_claims.csv",
                             id_column="phone")
    cluster.grant("telco", "telco_claims", to="bank", kinds=["hetero_poisson", "predict"])
    job = bank.call("POST", "/jobs", json={"dag": poisson_dag(), "timeout_s": 120})
    done = wait(bank, job["id"])
    assert done["state"] == "succeeded", done
    # The coordinator dealt in training only, and read no data.
    assert specs(cluster["coordinator"], job["id"]) == {"claims.arbiter-coordinator.json"}
    metrics = {m["name"]: m["value"] for m in bank.call("GET", f"/jobs/{job['id']}/metrics")}
    assert 0 < metrics["poisson_deviance"] < 1.5 and metrics["mean_deviance"] > 0
    # Published and served online like any vertical linear model: rates per unit of exposure.
    bank.call("POST", "/models", json={"name": "claims",
                                        "source": {"job_id": job["id"], "task": "claims"}})
    bank.call("POST", "/online-sources", json={"name": "claims-online",
                                               "dataset": "bank_claims"})
    telco.call("POST", "/online-sources", json={"name": "calls-online",
                                                "dataset": "telco_claims"})
    bank.call("POST", "/services", json={"name": "claims", "model": "claims",
                                         "source": "claims-online",
                                         "hosts": {"telco": "calls-online"}})
    some = ids[:6]
    online = bank.call("POST", "/services/claims/predict", json={"ids": some})
    batch = _job_scores(bank, str(job["id"]), "predict", "score")
    np.testing.assert_allclose(online["scores"], [batch[i] for i in some], rtol=1e-9)
    assert all(0 < s < 5 for s in online["scores"])
    # Offline: the registered tables scored in one go.
    bank.call("POST", "/predictions", json={"model": "claims", "dataset": "bank_claims",
                                            "hosts": {"telco": "telco_claims"},
                                            "output": "claims_offline"})
    [offline] = [d for d in bank.call("GET", "/datasets") if d["name"] == "claims_offline"]
    scored = pd.read_parquet(offline["location"])
    by_id = dict(zip(scored["phone"].astype(str), scored["score"], strict=True))
    np.testing.assert_allclose([by_id[i] for i in some], online["scores"], rtol=1e-9)
