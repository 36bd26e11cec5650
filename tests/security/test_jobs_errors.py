"""Finding 12 (issue 16): a failure's text never crosses to another organisation; only a typed
error's code and message do (untyped: ``internal`` and a fixed message). The full text — file
paths, cell values, tracebacks — stays in the failing node's own job log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from jobskit import Node, call, connect, dag, register_dataset, start_node

from coalition.core.errors import InputError
from coalition.core.ids import Party
from coalition.engine.dag import parse_dag
from coalition.engine.validate import validate_dag
from coalition.engine.worker import WorkerSpec, WorkerTrust
from coalition.engine.worker import process as worker
from coalition.node.auth.permissions import UserRole
from coalition.node.jobs import local
from coalition.node.jobs import repository as repo
from coalition.node.jobs.manager import manager_for
from coalition.node.partners.directory import get_partner
from coalition.node.partners.peer import HEALTH
from coalition.node.peer import SERVICE, PeerRegistry

ROWS = "id,x\n" + "".join(f"{i},{i / 10}\n" for i in range(1, 40))
FINAL = {"succeeded", "failed", "cancelled"}


def _db_bytes(node: Node) -> bytes:
    return b"".join(p.read_bytes() for p in node.home.glob("node.db*"))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node, str]]:
    marker = "hospital-share-" + secrets.token_hex(4)  # in the host's own data path only
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / marker / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    yield bank, telco, marker
    bank.close()
    telco.close()


@pytest.mark.slow
def test_a_host_failure_reaches_the_initiator_without_its_paths(
        pair: tuple[Node, Node, str]) -> None:
    bank, telco, marker = pair
    register_dataset(bank, "mine", ROWS)
    path = register_dataset(telco, "usage", ROWS, share_with="bank")
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
    grant = call(bank, telco, "RequestGrant", {"dataset": "usage", "purpose": "match",
                                               "component_kinds": ["psi"],
                                               "valid_until": until})
    telco.env.client.post(f"/api/v1/grants/{grant['id']}/approve", headers=telco.env.auth(),
                          json={})
    # The host's file turns unreadable after registration: its reader fails with a typed
    # error whose details name the host's path (and the decoder's complaint).
    path.write_bytes(b"id,x\n1,\xff\xfe\n")
    r = bank.env.client.post("/api/v1/jobs", headers=bank.env.auth(UserRole.DATA_SCIENTIST),
                             json={"dag": dag("bank", "telco"), "timeout_s": 60})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = bank.env.client.get(f"/api/v1/jobs/{job_id}", headers=bank.env.auth()).json()
        if job["state"] in FINAL:
            break
        time.sleep(0.2)
    assert job["state"] == "failed", job
    assert "host:telco" in job["error"] and "cannot read data file" in job["error"]
    # The initiator: API (job, logs) and every byte of its database hold no trace of the path.
    logs = bank.env.client.get(f"/api/v1/jobs/{job_id}/logs", headers=bank.env.auth()).text
    assert marker not in json.dumps(job) and marker not in logs
    assert marker.encode() not in _db_bytes(bank)
    # The host keeps the full story in its own log.
    host_logs = telco.env.client.get(f"/api/v1/jobs/{job_id}/logs",
                                     headers=telco.env.auth()).text
    assert marker in host_logs


def test_worker_result_carries_only_typed_code_and_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.json"
    WorkerSpec(job=secrets.token_hex(8), task="read", party="host:telco", dag={}, key="k",
               store=tmp_path / "store", listen="127.0.0.1:1", peers={"guest:bank": "x:1"},
               key_file=tmp_path / "k.pem", cert_file=tmp_path / "c.pem",
               trust=WorkerTrust(roots_pem="", pins={}, peer_roots={}), timeout=1.0,
               parent_pid=os.getppid()).write(spec)
    secret = "cell value 4711-SECRET at /srv/host/patients.csv"

    def results(exc: Exception) -> list[dict[str, Any]]:
        def boom(_: object) -> None:
            raise exc

        monkeypatch.setattr(worker, "execute", boom)
        assert worker.main(["worker", str(spec)]) == 1
        out = capsys.readouterr().out
        assert secret in out  # the local log (every non-protocol line) has it
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    untyped = results(ValueError(f"could not convert string to float: {secret!r}"))
    assert untyped == [{"result": "error", "code": "internal",
                        "error": "internal error (details are in the node's own log)"}]
    typed = results(InputError("cannot read data file", path=secret))
    assert typed == [{"result": "error", "code": "input.invalid",
                      "error": "cannot read data file"}]


def test_supervisor_failure_is_reported_as_internal(
        pair: tuple[Node, Node, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, telco, marker = pair
    doc = dag("bank", "telco")
    job_id = secrets.token_hex(8)
    repo.write(telco.rt, lambda db: repo.create_job(
        db, job_id=job_id, name="x", initiator="bank", dag=doc,
        sites={"guest:bank": "bank", "host:telco": "telco"}, selection={}, timeout_s=60,
        created_by="partner:bank", rerun_of=None, task_names=["read", "align"],
        orgs={"bank": ["guest:bank"], "telco": ["host:telco"]}))
    job = repo.read(telco.rt, lambda db: repo.get_job(db, job_id))
    node = validate_dag(parse_dag(doc)).tasks["read"]
    secret = f"/srv/{marker}/patients.csv"

    def broken(*_: object) -> dict[str, Any]:
        raise OSError(f"cannot open {secret}")

    sent: list[Any] = []
    monkeypatch.setattr(local, "_supervise", broken)
    monkeypatch.setattr(telco.rt.peers, "call",
                        lambda org, method, request: sent.append(request))
    local._run_worker(telco.rt, manager_for(telco.rt), job, node, Party.host("telco"))
    assert [(p.code, p.error) for p in sent] == [
        ("internal", "internal error (details are in the node's own log)")]
    logs = repo.read(telco.rt, lambda db: [r.message for r in repo.logs(db, job_id)])
    assert any(secret in m for m in logs)


def test_untyped_handler_error_text_never_crosses_the_peer_endpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"/srv/hospital-{secrets.token_hex(4)}/patients.csv"

    def buggy(rt: object, partner: object, payload: object) -> dict[str, Any]:
        raise OSError(f"cannot open {secret}")

    buggy_registry = PeerRegistry()  # telco's endpoint answers only a buggy Health
    buggy_registry.register(HEALTH, buggy)
    bank = start_node(tmp_path / "bank", "bank")
    telco = start_node(tmp_path / "telco", "telco", registry=buggy_registry)
    try:
        connect(bank, telco)
        connect(telco, bank)
        with bank.rt.db.session() as db:
            partner = get_partner(db, "telco")
            pem, address = partner.certificate_pem.encode(), partner.address
        from coalition.node.identity import tls_name_of_pem

        # bank reads the raw gRPC status, as any partner's own client can.
        creds = grpc.ssl_channel_credentials(pem, bank.rt.identity.key_pem,
                                             bank.rt.identity.cert_pem)
        options = [("grpc.ssl_target_name_override", tls_name_of_pem(pem))]
        with grpc.secure_channel(address, creds, options=options) as channel, \
                pytest.raises(grpc.RpcError) as caught:
            channel.unary_unary(f"/{SERVICE}/Health")(b"{}", timeout=10)
        details = caught.value.details() or ""
        assert secret not in details and "cannot open" not in details
        assert json.loads(details) == {"code": "internal", "message": "internal error"}
    finally:
        bank.close()
        telco.close()
