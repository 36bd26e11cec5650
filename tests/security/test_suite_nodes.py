"""A federation configured for ``sm`` refuses a partner and a job speaking ``standard``, end to
end between two nodes over their real peer endpoints (gRPC, mutual TLS).

``telco`` runs ``crypto_suite: sm``; ``bank`` is a partner left on ``standard`` (or a hostile
initiator proposing the standard suite). The handshake (``Health``) names each side's suite and
fails on a mismatch, from either side; a proposal whose PSI, ``data_split`` or SS-LR task runs
on the standard suite is rejected by telco's own policy (``policy.crypto_suite``), and driving it
anyway (``JobStart``, ``TaskRun``) starts no worker. The positive control: the same job on
``sm`` is accepted and launches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from policy_nodes import Pair, open_pair

from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.node.auth.permissions import UserRole
from coalition.node.jobs.certs import mint_endpoint

SITES = {"guest:bank": "bank", "host:telco": "telco", "arbiter:c": "carmaker"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with pytest.MonkeyPatch.context() as mp:
        made = open_pair(tmp_path_factory.mktemp("suites"), mp, crypto_suite="sm")
        made.dataset("subscribers", ["y", "x1", "x2"], label="y")
        made.grant("subscribers", ["data_split", "hetero_lr", "psi", "reader"])
        yield made
        made.bank.close()
        made.telco.close()


def _job(suite: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "name": "suites", "parties": {
        "guest": ["bank"], "host": ["telco"], "arbiter": ["c"]}, "tasks": {
        "read": {"component": "reader", "roles": ["guest", "host"], "party_parameters": {
            "guest:bank": {"path": "mine", "label_column": "y"},
            "host:telco": {"path": "subscribers"}}},
        "align": {"component": "psi", "roles": ["guest", "host"],
                  "inputs": {"data": "read.data"}, "parameters": {**suite}},
        "split": {"component": "data_split", "roles": ["guest", "host"],
                  "inputs": {"data": "align.data"}, "parameters": {**suite}},
        "lr": {"component": "hetero_lr", "inputs": {"train_data": "split.train"},
               "parameters": {"protocol": "ss", **suite}}}}


def _health(pair: Pair, caller: str, partner: str) -> dict[str, Any]:
    node = getattr(pair, caller)
    r = node.env.client.post(f"/api/v1/partners/{partner}/health",
                             headers=node.env.auth(UserRole.OPERATOR))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_handshake_names_the_suite_and_fails_on_a_mismatch_from_either_side(pair: Pair):
    from_bank = _health(pair, "bank", "telco")
    assert from_bank["ok"] is False and from_bank["remote_suite"] == "sm"
    assert "sm crypto suite" in from_bank["error"] and from_bank["seen_as"] == "bank"
    from_telco = _health(pair, "telco", "bank")
    assert from_telco["ok"] is False and from_telco["remote_suite"] == "standard"
    # what each node's console shows as its own suite (GET /node)
    for name, suite in (("bank", "standard"), ("telco", "sm")):
        env = getattr(pair, name).env
        assert env.client.get("/api/v1/node", headers=env.auth()).json()["crypto_suite"] == suite


@pytest.mark.parametrize("suite", [{}, {"suite": "standard"}], ids=["default", "explicit"])
def test_an_sm_node_rejects_a_standard_job_and_starts_no_worker(pair: Pair, suite):
    document = _job(suite)
    job_id, reply = pair.propose(document, SITES)
    assert reply["status"] == "rejected" and reply["endpoints"] == {}
    assert "policy.crypto_suite" in reply["reason"]
    for task in ("align", "split", "lr"):  # every suite-bearing task is named
        assert task in reply["reason"]
    before = len(pair.launched)
    with contextlib.suppress(CoalitionError):
        pair.call("JobStart", {"job_id": job_id, "endpoints": {}})
    for task in document["tasks"]:
        with contextlib.suppress(CoalitionError):
            pair.call("TaskRun", {"job_id": job_id, "task": task})
    assert pair.launched[before:] == []
    assert pair.job_state(job_id) == "failed"


def test_positive_control_the_same_job_on_sm_is_accepted_and_launches(pair: Pair):
    _, reply = pair.propose(_job({"suite": "sm"}), SITES)
    assert reply["status"] == "accepted", reply
    # and a two-party one (no third organisation to reach) runs its first task on telco
    sites = {"guest:bank": "bank", "host:telco": "telco"}
    document = _job({"suite": "sm"})
    document["parties"].pop("arbiter")
    document["tasks"].pop("lr")
    job_id, reply = pair.propose(document, sites)
    assert reply["status"] == "accepted", reply
    endpoints = dict(reply["endpoints"])
    endpoints["guest:bank"] = mint_endpoint(pair.bank.env.rt, job_id,
                                            Party.parse("guest:bank")).to_dict()
    before = len(pair.launched)
    pair.call("JobStart", {"job_id": job_id, "endpoints": endpoints})
    pair.call("TaskRun", {"job_id": job_id, "task": "read"})
    assert pair.launched[before:] == [("telco", "read")]


def _two_party_job(align: dict[str, Any]) -> dict[str, Any]:
    """Telco initiates (guest), bank hosts: every suite-bearing task but one names no suite."""
    return {"version": 1, "name": "filled", "parties": {"guest": ["telco"], "host": ["bank"]},
            "tasks": {
                "read": {"component": "reader", "party_parameters": {
                    "guest:telco": {"path": "subscribers", "label_column": "y"},
                    "host:bank": {"path": "mine"}}},
                "align": {"component": "psi", "inputs": {"data": "read.data"},
                          "parameters": align},
                "split": {"component": "data_split", "inputs": {"data": "align.data"}},
                "sb": {"component": "hetero_secureboost", "inputs": {"train_data": "split.train"}},
                "score": {"component": "predict", "inputs": {"model": "sb.model",
                                                             "data": "split.test"}},
                "eval": {"component": "evaluate", "roles": ["guest"],
                         "inputs": {"data": "score.predictions"}}}}


def _submit(pair: Pair, document: dict[str, Any]) -> Any:
    telco = pair.telco
    return telco.env.client.post("/api/v1/jobs", headers=telco.env.auth(UserRole.DATA_SCIENTIST),
                                 json={"dag": document})


def test_an_sm_initiator_fills_its_suite_into_every_suite_bearing_task(pair: Pair):
    """A job document for an ``sm`` federation need not name the suite: the initiator's node
    fills it in at submit, so the recorded (and proposed) job names it on every task that
    takes one, and only there; an explicit ``sm`` stays as written."""
    from coalition.node.jobs.tables import JobRow

    r = _submit(pair, _two_party_job({"protocol": "ecdh"}))
    assert r.status_code == 201, r.text
    with pair.telco.env.rt.db.session() as db:
        recorded = db.get(JobRow, r.json()["id"]).dag
    named = {t: spec.get("parameters", {}).get("suite") for t, spec in recorded["tasks"].items()}
    assert named == {"read": None, "align": "sm", "split": "sm", "sb": "sm", "score": "sm",
                     "eval": None}
    assert recorded["tasks"]["align"]["parameters"]["protocol"] == "ecdh"


def test_an_explicit_other_suite_is_still_refused_at_submit(pair: Pair):
    r = _submit(pair, _two_party_job({"suite": "standard"}))
    assert r.status_code == 400 and r.json()["code"] == "policy.violation", r.text
    # only the task that named another suite: the others were filled with sm
    assert [(e["rule"], e["task"]) for e in r.json()["errors"]] == [
        ("policy.crypto_suite", "align")]
