"""Finding 2: a partner's job reads this node's data only under a grant, and the answers to a
proposal never say which dataset names exist here.

The hostile initiator ``bank`` uses only its own node identity and ``JobPropose`` over
telco's real peer endpoint (gRPC + mutual TLS). Before the fix a ``reader``-only job was
accepted without any grant or share (bank learnt row and column counts from the reader's
metrics and telco registered a derived copy), and the refusal for a missing dataset named it
while an existing unshared one was accepted: an oracle for dataset names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from policy_nodes import Pair, dag, open_pair
from typer.testing import CliRunner

from coalition.cli import job as job_cli
from coalition.client import NodeClient
from coalition.core.errors import CoalitionError

READER_ONLY = {"guest": ["bank"], "host": ["telco"]}
SITES = {"guest:bank": "bank", "host:telco": "telco"}


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    made = open_pair(tmp_path, monkeypatch)
    made.dataset("usage", ["x1", "x2"])
    made.dataset("secret", ["x1", "x2"], share=False)
    yield made
    made.bank.close()
    made.telco.close()


def _read(dataset: str) -> dict[str, object]:
    return dag(READER_ONLY, {"guest:bank": "mine", "host:telco": dataset})


def test_reader_only_job_on_unshared_dataset_is_refused(pair: Pair) -> None:
    job_id, reply = pair.propose(_read("secret"), SITES)
    assert reply["status"] == "rejected" and reply["endpoints"] == {}
    assert pair.job_state(job_id) == "failed"
    # the refused job cannot be driven on: JobStart changes nothing, TaskRun is refused
    with contextlib.suppress(CoalitionError):
        pair.call("JobStart", {"job_id": job_id, "endpoints": {}})
    assert pair.job_state(job_id) == "failed"
    with pytest.raises(CoalitionError):
        pair.call("TaskRun", {"job_id": job_id, "task": "read"})
    assert pair.launched == []


def test_reader_only_job_on_shared_dataset_needs_a_grant(pair: Pair) -> None:
    _, reply = pair.propose(_read("usage"), SITES)
    assert reply["status"] == "waiting_approval" and reply["endpoints"] == {}
    assert "usage:reader" in reply["reason"]
    pair.grant("usage", ["psi"])  # any approved grant on the dataset covers the read itself
    _, reply = pair.propose(_read("usage"), SITES)
    assert reply["status"] == "accepted"


def test_answers_do_not_reveal_which_datasets_exist(pair: Pair) -> None:
    answers = []
    for name in ("secret", "no_such_dataset"):
        _, reply = pair.propose(_read(name), SITES)
        answers.append((reply["status"], reply["reason"]))
        assert name not in reply["reason"]
    assert answers[0] == answers[1]
    assert answers[0][0] == "rejected"


def test_initiator_must_run_a_party_of_its_job(pair: Pair) -> None:
    pair.grant("usage", ["psi"])
    # every party is sited at telco: bank would only drive telco's data around
    job_id, reply = pair.propose(
        dag({"guest": ["a"], "host": ["b"]}, {"guest:a": "usage", "host:b": "usage"}),
        {"guest:a": "telco", "host:b": "telco"})
    assert reply["status"] == "rejected" and "initiator" in reply["reason"]
    assert pair.job_state(job_id) == "failed"
    assert pair.launched == []


def test_approval_view_shows_every_site_and_parameter(pair: Pair,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A person asked to approve sees where every party runs and with which parameters
    (party blocks included), in the API and in ``coalition job show``."""
    document = dag({"guest": ["bank"], "host": ["telco"], "arbiter": ["c"]},
                   {"guest:bank": "mine", "host:telco": "usage"},
                   {"component": "hetero_lr", "parameters": {"protocol": "he-arbiter"},
                    "party_parameters": {"host:telco": {"batch_size": 480}}})
    sites = {**SITES, "arbiter:c": "carmaker"}
    job_id, reply = pair.propose(document, sites)
    assert reply["status"] == "waiting_approval"
    job = pair.telco.env.client.get(f"/api/v1/jobs/{job_id}",
                                    headers=pair.telco.env.auth()).json()
    train = next(t for t in job["review"] if t["task"] == "train")
    assert train["variant"] == "hetero_lr:he-arbiter"
    seen = {p["party"]: (p["site"], p["parameters"]) for p in train["parties"]}
    assert seen == {"guest:bank": ("bank", {"protocol": "he-arbiter"}),
                    "host:telco": ("telco", {"protocol": "he-arbiter", "batch_size": 480}),
                    "arbiter:c": ("carmaker", {"protocol": "he-arbiter"})}
    monkeypatch.setattr(NodeClient, "get_job", lambda *a, **k: job)
    app = typer.Typer()
    job_cli.register(app)
    out = CliRunner().invoke(app, ["job", "show", job_id, "--token", "x"],
                             env={"COLUMNS": "200"}).output
    assert "hetero_lr:he-arbiter" in out and "carmaker" in out and '"batch_size": 480' in out
