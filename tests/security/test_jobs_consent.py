"""Findings 1 and 3 (issue 16): a partner runs only what this node itself accepted, job ids are
never paths, and a party certificate is good for one job only.

Every attack is played by a registered partner (``bank``) through the victim's (``telco``)
real peer endpoint, gRPC over mutual TLS, with bank's own node identity.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobskit import Node, call, connect, proposal, register_dataset, start_node

from coalition.core.errors import AuthError, ConflictError, InputError
from coalition.core.ids import Party
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import check_endpoint, mint_endpoint
from coalition.node.jobs.manager import manager_for

ROWS = "id,x\n" + "".join(f"{i},{i / 10}\n" for i in range(1, 20))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    register_dataset(telco, "usage", ROWS, share_with="bank")
    yield bank, telco
    bank.close()
    telco.close()


def _grant_psi(bank: Node, telco: Node) -> None:
    """bank asks for (and telco approves) ECDH-PSI on telco's ``usage``."""
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
    grant = call(bank, telco, "RequestGrant", {"dataset": "usage", "purpose": "match",
                                               "component_kinds": ["psi"],
                                               "valid_until": until})
    r = telco.env.client.post(f"/api/v1/grants/{grant['id']}/approve",
                              headers=telco.env.auth(), json={})
    assert r.status_code == 200, r.text


def _state(node: Node, job_id: str) -> str:
    return repo.read(node.rt, lambda db: repo.get_job(db, job_id).state)


def _no_work(node: Node, job_id: str) -> bool:
    """No worker spec written and no worker process tracked for the job."""
    procs = [k for k in manager_for(node.rt)._procs if k[0] == job_id]
    return not (node.home / "jobs" / job_id / "work").exists() and not procs


def test_initiator_cannot_run_a_job_this_node_left_waiting_or_rejected(
        pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    waiting = secrets.token_hex(8)
    reply = call(bank, telco, "JobPropose", proposal(waiting, "bank", "telco"))
    assert reply["status"] == "waiting_approval" and reply["endpoints"] == {}
    # The initiator's word alone: "it is running now", then prepare and run the reader.
    with pytest.raises(AuthError, match="not accepted"):
        call(bank, telco, "JobUpdate", {"job_id": waiting, "state": "running"})
    assert _state(telco, waiting) == "waiting_approval"
    for method in ("TaskPrepare", "TaskRun"):
        with pytest.raises((AuthError, ConflictError)):
            call(bank, telco, method, {"job_id": waiting, "task": "read"})
    with pytest.raises(AuthError, match="not accepted"):
        call(bank, telco, "JobStart", {"job_id": waiting, "endpoints": {}})
    assert _state(telco, waiting) == "waiting_approval" and _no_work(telco, waiting)

    # A person at telco rejects: nothing the initiator says revives the job.
    rejected = secrets.token_hex(8)
    call(bank, telco, "JobPropose", proposal(rejected, "bank", "telco"))
    r = telco.env.client.post(f"/api/v1/jobs/{rejected}/reject", headers=telco.env.auth(),
                              json={"reason": "not this quarter"})
    assert r.status_code >= 400  # telling bank fails (bank holds no such job); the row stands
    assert _state(telco, rejected) == "failed"
    for method, payload in (("JobStart", {"endpoints": {}}), ("JobUpdate", {"state": "running"}),
                            ("TaskPrepare", {"task": "read"}), ("TaskRun", {"task": "read"})):
        with pytest.raises(AuthError, match="not accepted"):
            call(bank, telco, method, {"job_id": rejected, **payload})
    assert _state(telco, rejected) == "failed" and _no_work(telco, rejected)


def test_stopping_a_waiting_job_still_works(pair: tuple[Node, Node]) -> None:
    """The one move an initiator may make without this node's acceptance: stop the job."""
    bank, telco = pair
    job_id = secrets.token_hex(8)
    call(bank, telco, "JobPropose", proposal(job_id, "bank", "telco"))
    call(bank, telco, "JobUpdate", {"job_id": job_id, "state": "cancelled", "reason": "oops"})
    assert _state(telco, job_id) == "cancelled"


def test_job_ids_that_are_paths_are_refused(pair: tuple[Node, Node], tmp_path: Path) -> None:
    bank, telco = pair
    _grant_psi(bank, telco)  # the proposal would be accepted: keys would be written
    outside = tmp_path / "outside"
    before = set(tmp_path.rglob("*"))
    for bad_id in ("../../x", "../escape", str(outside), "0123456789abcdef/../../y"):
        with pytest.raises(InputError, match="16 lowercase hex"):
            call(bank, telco, "JobPropose", proposal(bad_id, "bank", "telco"))
    # Nothing new anywhere but the two nodes' databases (audit rows of the refusals).
    written = {p for p in set(tmp_path.rglob("*")) - before if not p.name.startswith("node.db")}
    assert written == set()
    assert not outside.exists() and not (tmp_path / "x").exists()


def test_alias_of_an_accepted_job_cannot_overwrite_its_keys(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    _grant_psi(bank, telco)
    j1 = secrets.token_hex(8)
    assert call(bank, telco, "JobPropose", proposal(j1, "bank", "telco"))["status"] == "accepted"
    keys = sorted((telco.home / "jobs" / j1 / "keys").iterdir())
    before = {k.name: k.read_bytes() for k in keys}
    for alias in (f"{j1}/.", f"{j1}/", f"./{j1}", j1.upper()):
        with pytest.raises(InputError, match="16 lowercase hex"):
            call(bank, telco, "JobPropose", proposal(alias, "bank", "telco"))
    assert {k.name: k.read_bytes() for k in keys} == before
    assert sorted(p.name for p in (telco.home / "jobs").iterdir()) == [j1]
    # Every job-addressed method checks the id before anything else.
    for method in ("JobStart", "JobUpdate", "TaskPrepare", "TaskRun", "TaskReport",
                   "JobDecision", "JobCancel"):
        with pytest.raises(InputError, match="16 lowercase hex"):
            call(bank, telco, method, {"job_id": f"{j1}/.", "task": "read", "state": "running",
                                       "endpoints": {}, "status": "accepted"})


def test_party_certificate_of_one_job_is_refused_for_another(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    _grant_psi(bank, telco)
    j1, j2 = secrets.token_hex(8), secrets.token_hex(8)
    ep1 = call(bank, telco, "JobPropose", proposal(j1, "bank", "telco"))["endpoints"]
    assert call(bank, telco, "JobPropose", proposal(j2, "bank", "telco"))["status"] == "accepted"
    telco_j1 = ep1["host:telco"]
    # bank relays telco's certificate of job 1 for job 2 (with its own guest endpoint of j2).
    guest = mint_endpoint(bank.rt, j2, Party.guest("bank")).to_dict()
    with pytest.raises(AuthError):
        call(bank, telco, "JobStart", {"job_id": j2, "endpoints": {"guest:bank": guest,
                                                                   "host:telco": telco_j1}})
    assert _state(telco, j2) == "pending"
    from coalition.transport.tls import cert_job

    assert cert_job(telco_j1["cert_pem"].encode()) == j1
    # And bank's own job-1 certificate presented for job 2 fails the binding check.
    guest_j1 = mint_endpoint(bank.rt, j1, Party.guest("bank"))
    with pytest.raises(AuthError, match="not bound to this job"):
        check_endpoint(Party.guest("bank"), guest_j1.cert_pem.encode(),
                       bank.rt.identity.cert_pem, j2)


def test_third_party_certificate_of_another_job_is_refused(tmp_path: Path) -> None:
    """bank relays telco's (genuine, telco-issued) job-1 certificate to carmaker for job 2."""
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / "telco", "telco")
    carmaker = start_node(tmp_path / "carmaker", "carmaker")
    nodes = (bank, telco, carmaker)
    try:
        for a in nodes:
            for b in nodes:
                if a is not b:
                    connect(a, b)
        for host, name in ((telco, "usage"), (carmaker, "fleet")):
            register_dataset(host, name, ROWS, share_with="bank")
            until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
            g = call(bank, host, "RequestGrant", {"dataset": name, "purpose": "match",
                                                  "component_kinds": ["psi"],
                                                  "valid_until": until})
            assert host.env.client.post(f"/api/v1/grants/{g['id']}/approve",
                                        headers=host.env.auth(), json={}).status_code == 200
        doc = {"version": 1, "name": "probe",
               "parties": {"guest": ["bank"], "host": ["telco", "carmaker"]},
               "tasks": {"read": {"component": "reader", "parameters": {"id_column": "id"},
                                  "party_parameters": {"guest:bank": {"path": "mine"},
                                                       "host:telco": {"path": "usage"},
                                                       "host:carmaker": {"path": "fleet"}}},
                         "align": {"component": "psi", "parameters": {"protocol": "ecdh"},
                                   "inputs": {"data": "read.data"}}}}
        sites = {"guest:bank": "bank", "host:telco": "telco", "host:carmaker": "carmaker"}
        j1, j2 = secrets.token_hex(8), secrets.token_hex(8)
        replies = {(j, h.name): call(bank, h, "JobPropose",
                                     proposal(j, "bank", h.name, dag=doc, sites=sites))
                   for j in (j1, j2) for h in (telco, carmaker)}
        assert {r["status"] for r in replies.values()} == {"accepted"}
        guest = mint_endpoint(bank.rt, j2, Party.guest("bank")).to_dict()
        endpoints = {"guest:bank": guest,
                     "host:carmaker": replies[(j2, "carmaker")]["endpoints"]["host:carmaker"],
                     "host:telco": replies[(j1, "telco")]["endpoints"]["host:telco"]}
        with pytest.raises(AuthError, match="not bound to this job"):
            call(bank, carmaker, "JobStart", {"job_id": j2, "endpoints": endpoints})
        assert _state(carmaker, j2) == "pending"
        # With telco's job-2 certificate the same start goes through.
        endpoints["host:telco"] = replies[(j2, "telco")]["endpoints"]["host:telco"]
        call(bank, carmaker, "JobStart", {"job_id": j2, "endpoints": endpoints})
        assert _state(carmaker, j2) == "running"
    finally:
        for n in nodes:
            n.close()
