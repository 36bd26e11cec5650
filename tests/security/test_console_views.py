"""The console's job views (issue 21) are built from this node's own records: a partner's
report speaks for its own party only, and a job's DAG as a node shows it is exactly the
document it was given.

The attacker is a registered partner (``telco``) driving the victim's (``bank``) real peer
endpoint, gRPC over mutual TLS, with its own node identity.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from jobskit import Node, call, connect, dag, proposal, start_node

from coalition.core.errors import AuthError
from coalition.engine.states import JobState, TaskState
from coalition.node.jobs import repository as repo


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("views")
    bank = start_node(root / "bank", "bank")
    telco = start_node(root / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    yield bank, telco
    bank.close()
    telco.close()


def _running_job_at(bank: Node) -> str:
    """A job bank initiated with telco, its ``read`` task running (bank's own records)."""
    job_id = secrets.token_hex(8)
    sites = {"guest:bank": "bank", "host:telco": "telco"}

    def seed(db: Any) -> None:
        job = repo.create_job(db, job_id=job_id, name="probe", initiator="bank",
                              dag=dag("bank", "telco"), sites=sites, selection={},
                              timeout_s=60, created_by="user:admin", rerun_of=None,
                              task_names=["read", "align"],
                              orgs={"bank": ["guest:bank"], "telco": ["host:telco"]})
        repo.move_job(db, job, JobState.RUNNING, "", "system")
        repo.move_task(db, job_id, "read", TaskState.RUNNING, "", "system")

    repo.write(bank.rt, seed)
    return job_id


def _parties(node: Node, job_id: str, task: str) -> dict[str, dict[str, Any]]:
    r = node.env.client.get(f"/api/v1/jobs/{job_id}", headers=node.env.auth())
    assert r.status_code == 200, r.text
    found = {t["name"]: t for t in r.json()["tasks"]}[task]
    return {p["party"]: p for p in found["parties"]}


def test_a_partner_cannot_report_another_partys_state(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    job_id = _running_job_at(bank)
    # telco claims the guest's (bank's) party finished.
    with pytest.raises(AuthError, match="not run by the caller"):
        call(telco, bank, "TaskReport", {"job_id": job_id, "task": "read",
                                         "party": "guest:bank", "ok": True})
    # ... and hides a forged "done" line for it in its own party's error text.
    forged = "boom\nguest:bank: done"
    call(telco, bank, "TaskReport", {"job_id": job_id, "task": "read", "party": "host:telco",
                                     "ok": False, "error": forged, "code": "x"})
    seen = _parties(bank, job_id, "read")
    assert seen["guest:bank"]["state"] == "running" and not seen["guest:bank"]["reported"]
    assert seen["host:telco"]["state"] == "failed" and seen["host:telco"]["reported"]
    assert seen["host:telco"]["error"] == forged  # shown as telco's own words, nothing more
    # A report of a task this party does not have changes nothing either.
    assert set(_parties(bank, job_id, "align")) == {"guest:bank", "host:telco"}
    assert {p["state"] for p in _parties(bank, job_id, "align").values()} == {"pending"}


def test_a_participant_shows_the_proposed_document_and_nothing_of_its_own(
        pair: tuple[Node, Node]) -> None:
    """What a partner's node shows for cloning is what every organisation of the job was
    sent; the participant's own endpoints and cache keys are not in the view."""
    bank, telco = pair
    job_id = secrets.token_hex(8)
    sent = proposal(job_id, "bank", "telco")
    call(bank, telco, "JobPropose", sent)
    r = telco.env.client.get(f"/api/v1/jobs/{job_id}", headers=telco.env.auth())
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["dag"] == sent["job"]["dag"]
    assert "endpoints" not in view and all("keys" not in t for t in view["tasks"])
    # A caller without jobs.read (every role holds it; an API key may not) gets neither the
    # document, the per-party states nor a dataset's usage.
    admin, client = telco.env.auth(), telco.env.client
    client.post("/api/v1/users", headers=admin,
                json={"username": "etl", "role": "operator", "kind": "api"})
    r = client.post("/api/v1/api-keys", headers=admin,
                    json={"username": "etl", "scopes": ["node.read", "datasets.read"]})
    assert r.status_code == 201, r.text
    scoped = {"Authorization": f"Bearer {r.json()['key']}"}
    for path in (f"/api/v1/jobs/{job_id}", "/api/v1/jobs?dataset=usage"):
        denied = client.get(path, headers=scoped)
        assert denied.status_code == 403 and denied.json()["details"]["permission"] == "jobs.read"
