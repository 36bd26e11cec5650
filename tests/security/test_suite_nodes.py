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
