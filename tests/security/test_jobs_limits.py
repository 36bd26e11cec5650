"""Finding 9 (issue 16): a registered partner cannot exhaust this node through the peer
methods: one worker per (job, task, party), no re-proposal of a known job id, caps on what one
partner keeps pending, bounded sizes and timeouts, and a call rate — every refusal typed.

Each attack is played by partner ``bank`` (or ``carmaker``) against ``telco`` through telco's
real peer endpoint (gRPC + mutual TLS) with small limits set in telco's node settings.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobskit import Node, call, connect, dag, proposal, register_dataset, start_node

from coalition.core.errors import CoalitionError, ConflictError, InputError
from coalition.core.ids import Party
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import mint_endpoint
from coalition.node.jobs.manager import JobManager

ROWS = "id,x\n" + "".join(f"{i},{i / 10}\n" for i in range(1, 20))
LIMITS = {"job_max_pending_per_partner": 3, "grant_max_pending_per_partner": 2,
          "job_max_tasks": 4, "job_max_timeout_s": 900.0,
          "peer_max_request_bytes": 64 * 1024}


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[tuple[Node, Node, Node]]:
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / "telco", "telco", **LIMITS)
    carmaker = start_node(tmp_path / "carmaker", "carmaker")
    for a, b in ((bank, telco), (telco, bank), (carmaker, telco), (telco, carmaker)):
        connect(a, b)
    register_dataset(telco, "usage", ROWS, share_with="bank")
    yield bank, telco, carmaker
    for n in (bank, telco, carmaker):
        n.close()


def _limited(exc: CoalitionError) -> bool:
    """A typed refusal for a limit (the caller sees ``limit.exceeded``)."""
    return exc.code == "limit.exceeded" or exc.details.get("remote_code") == "limit.exceeded"


def _until() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()


def _grant(bank: Node, telco: Node, kinds: list[str]) -> dict[str, Any]:
    return call(bank, telco, "RequestGrant", {"dataset": "usage", "purpose": "match",
                                              "component_kinds": kinds,
                                              "valid_until": _until()})


def _accepted_running_job(bank: Node, telco: Node) -> str:
    """A job telco accepted (grant) and bank started with proper endpoints."""
    g = _grant(bank, telco, ["psi"])
    assert telco.env.client.post(f"/api/v1/grants/{g['id']}/approve",
                                 headers=telco.env.auth(), json={}).status_code == 200
    job_id = secrets.token_hex(8)
    reply = call(bank, telco, "JobPropose", proposal(job_id, "bank", "telco"))
    assert reply["status"] == "accepted"
    guest = mint_endpoint(bank.rt, job_id, Party.guest("bank")).to_dict()
    call(bank, telco, "JobStart", {"job_id": job_id,
                                   "endpoints": {"guest:bank": guest, **reply["endpoints"]}})
    return job_id


def test_task_run_starts_one_worker_however_often_it_is_called(
        trio: tuple[Node, Node, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    bank, telco, _ = trio
    job_id = _accepted_running_job(bank, telco)
    spawned: list[str] = []
    # Record worker starts instead of running them (the count is what is under attack).
    monkeypatch.setattr(JobManager, "spawn", lambda self, name, fn, *a: spawned.append(name))
    call(bank, telco, "TaskPrepare", {"job_id": job_id, "task": "read"})
    replies = [call(bank, telco, "TaskRun", {"job_id": job_id, "task": "read"})
               for _ in range(5)]
    assert all(r == {"started": ["host:telco"]} for r in replies)
    assert spawned == [f"{job_id}-read-host:telco"]


def test_re_proposal_of_a_known_job_id_is_refused_and_the_job_untouched(
        trio: tuple[Node, Node, Node]) -> None:
    bank, telco, carmaker = trio
    g = _grant(bank, telco, ["psi"])
    telco.env.client.post(f"/api/v1/grants/{g['id']}/approve", headers=telco.env.auth(),
                          json={})
    job_id = secrets.token_hex(8)
    assert call(bank, telco, "JobPropose",
                proposal(job_id, "bank", "telco"))["status"] == "accepted"

    def snapshot() -> dict[str, Any]:
        return repo.read(telco.rt, lambda db: {
            **repo.job_view(db, repo.get_job(db, job_id)),
            "endpoints": repo.get_job(db, job_id).endpoints})

    before = snapshot()
    keys = {p: p.read_bytes() for p in (telco.home / "jobs" / job_id / "keys").iterdir()}
    # carmaker takes bank's pending job id for a job of its own; bank re-proposes it too.
    hijack = proposal(job_id, "carmaker", "telco")
    for src, payload in ((carmaker, hijack), (bank, proposal(job_id, "bank", "telco"))):
        with pytest.raises(ConflictError):
            call(src, telco, "JobPropose", payload)
    assert snapshot() == before
    assert {p: p.read_bytes() for p in keys} == keys


def test_pending_proposals_per_partner_are_capped(trio: tuple[Node, Node, Node]) -> None:
    bank, telco, carmaker = trio
    for _ in range(LIMITS["job_max_pending_per_partner"]):
        call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco"))
    with pytest.raises(CoalitionError) as caught:
        call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco"))
    assert _limited(caught.value)
    # The cap is per partner: carmaker's proposals are not blocked by bank's.
    register_dataset(telco, "fleet", ROWS, share_with="carmaker")
    other = proposal(secrets.token_hex(8), "carmaker", "telco",
                     dag=dag("carmaker", "telco", victim_path="fleet"))
    assert call(carmaker, telco, "JobPropose", other)["status"] == "waiting_approval"


def test_pending_grant_requests_per_partner_are_capped(trio: tuple[Node, Node, Node]) -> None:
    bank, telco, _ = trio
    for _ in range(LIMITS["grant_max_pending_per_partner"]):
        _grant(bank, telco, ["psi"])
    with pytest.raises(CoalitionError) as caught:
        _grant(bank, telco, ["psi"])
    assert _limited(caught.value)


def test_oversized_requests_dags_and_strings_are_refused(trio: tuple[Node, Node, Node]) -> None:
    bank, telco, _ = trio
    # Bigger than the endpoint takes: refused by gRPC before any handler, typed at the caller.
    with pytest.raises(CoalitionError) as caught:
        call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco",
                                                 name="n" * (100 * 1024)))
    assert _limited(caught.value)
    too_many = proposal(secrets.token_hex(8), "bank", "telco",
                        dag=dag("bank", "telco", extra_tasks=LIMITS["job_max_tasks"]))
    with pytest.raises(InputError, match="more tasks"):
        call(bank, telco, "JobPropose", too_many)
    with pytest.raises(InputError, match="at most 200"):
        call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco",
                                                 name="n" * 5000))
    assert repo.read(telco.rt, repo.list_jobs) == []


def test_proposed_timeout_is_clamped_and_must_be_a_number(
        trio: tuple[Node, Node, Node]) -> None:
    bank, telco, _ = trio
    job_id = secrets.token_hex(8)
    call(bank, telco, "JobPropose", proposal(job_id, "bank", "telco", timeout_s=10 ** 9))
    stored = repo.read(telco.rt, lambda db: repo.get_job(db, job_id).timeout_s)
    assert stored == LIMITS["job_max_timeout_s"]
    for bad in (-5, "forever", True):
        with pytest.raises(InputError, match="timeout_s"):
            call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco",
                                                     timeout_s=bad))


def test_control_calls_are_rate_limited_per_partner(tmp_path: Path) -> None:
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / "telco", "telco", peer_rate_per_minute=1.0, peer_rate_burst=3)
    carmaker = start_node(tmp_path / "carmaker", "carmaker")
    try:
        for a, b in ((bank, telco), (telco, bank), (carmaker, telco), (telco, carmaker)):
            connect(a, b)
        for _ in range(3):
            assert call(bank, telco, "Health", {})["you"] == "bank"
        with pytest.raises(CoalitionError) as caught:
            call(bank, telco, "ListDatasets", {})
        assert _limited(caught.value)
        assert call(carmaker, telco, "Health", {})["you"] == "carmaker"  # its own bucket
    finally:
        for n in (bank, telco, carmaker):
            n.close()
