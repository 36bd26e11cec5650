"""Jobs on one node in-process: API errors, consent, per-job certificates, restart recovery,
derived dataset names and the CLI's remote commands (no worker processes here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from nodekit import NodeEnv, make_env
from typer.testing import CliRunner

from coalition.cli import job as job_cli
from coalition.core.errors import AuthError
from coalition.core.ids import Party
from coalition.engine.dag import load_dag
from coalition.engine.states import JobState, TaskState
from coalition.engine.validate import validate_dag
from coalition.node import NodeRuntime
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import check_endpoint, mint_endpoint, transport_trust
from coalition.node.jobs.consent import required_uses, verdict
from coalition.node.jobs.derived import derived_name
from coalition.node.jobs.manager import manager_for
from coalition.node.settings import NodeSettings
from coalition.transport.tls import cert_fingerprint

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs" / "credit_risk.yaml"
J1 = "00000000000000a1"
SITES = {"guest:bank": "bank", "host:telco": "telco", "arbiter:coordinator": "coordinator"}


def _doc() -> dict[str, object]:
    return load_dag(EXAMPLE).to_document()


def test_submit_rejects_invalid_dags_and_unknown_sites(shared_env: NodeEnv) -> None:
    auth = shared_env.auth()
    bad = {"version": 1, "name": "x", "parties": {"guest": ["bank"]},
           "tasks": {"t": {"component": "nope"}}}
    r = shared_env.client.post("/api/v1/jobs", headers=auth, json={"dag": bad})
    assert r.status_code == 400 and r.json()["code"] == "dag.invalid"
    assert "tasks.t.component: unknown component" in r.json()["detail"]
    r = shared_env.client.post("/api/v1/jobs", headers=auth, json={"dag": _doc()})
    assert r.status_code == 422
    assert r.json()["details"]["orgs"] == ["coordinator", "telco"]
    r = shared_env.client.post("/api/v1/jobs", headers=auth,
                               json={"dag": _doc(), "only": "missing"})
    assert r.status_code == 400


def test_unknown_jobs_are_404_everywhere(shared_env: NodeEnv) -> None:
    auth = shared_env.auth()
    assert shared_env.client.get("/api/v1/jobs", headers=auth).json() == []
    routes = (("GET", ""), ("GET", "/logs"), ("GET", "/metrics"), ("GET", "/events"),
              ("POST", "/cancel"), ("POST", "/rerun"), ("POST", "/approve"))
    for method, path in routes:
        r = shared_env.client.request(method, f"/api/v1/jobs/0123456789abcdef{path}",
                                      headers=auth, json={})
        assert r.status_code == 404, (path, r.text)
        # A malformed id never reaches a lookup (ids name folders on every node).
        r = shared_env.client.request(method, f"/api/v1/jobs/nope{path}", headers=auth, json={})
        assert r.status_code == 422, (path, r.text)


def test_consent_needs_a_grant_for_every_downstream_use() -> None:
    graph = validate_dag(load_dag(EXAMPLE))
    uses = required_uses(graph, SITES, "telco")
    assert uses == {"data/telco.csv": {"reader", "psi", "data_split", "hetero_secureboost",
                                       "hetero_lr", "predict"}}
    assert required_uses(graph, SITES, "coordinator") == {}


def test_verdicts_without_data_or_for_own_data(env: NodeEnv) -> None:
    graph = validate_dag(load_dag(EXAMPLE))
    with env.rt.db.session() as db:
        settings = env.rt.settings
        assert verdict(db, graph, SITES, "coordinator", "bank", settings).status == "accepted"
        missing = verdict(db, graph, SITES, "bank", "bank", settings)
    assert missing.status == "rejected" and "not registered" in missing.reason


def test_party_certificates_are_issued_by_the_node_key(tmp_path: Path) -> None:
    bank, telco = make_env(tmp_path / "b", "bank"), make_env(tmp_path / "t", "telco")
    try:
        guest = Party.guest("bank")
        ep = mint_endpoint(bank.rt, J1, guest)
        assert ep.address.startswith("127.0.0.1:")
        check_endpoint(guest, ep.cert_pem.encode(), bank.rt.identity.cert_pem, J1)
        with pytest.raises(AuthError, match="issued"):
            check_endpoint(guest, ep.cert_pem.encode(), telco.rt.identity.cert_pem, J1)
        with pytest.raises(AuthError, match="another party"):
            check_endpoint(Party.host("bank"), ep.cert_pem.encode(), bank.rt.identity.cert_pem,
                           J1)
        trust = transport_trust({guest: ep.cert_pem.encode()},
                                {guest: bank.rt.identity.cert_pem})
        assert trust.pins == {guest: cert_fingerprint(ep.cert_pem.encode())}
        assert trust.roots_for(guest) == bank.rt.identity.cert_pem
        key = (tmp_path / "b" / "jobs" / J1 / "keys" / "guest-bank.key")
        assert key.stat().st_mode & 0o077 == 0
    finally:
        bank.close()
        telco.close()


def test_restart_fails_running_jobs_and_their_tasks(env: NodeEnv) -> None:
    sites = {"guest:bank": "bank", "host:bank2": "bank"}

    def seed(db: object) -> None:
        job = repo.create_job(db, job_id="j1", name="x", initiator="bank", dag={}, sites=sites,  # type: ignore[arg-type]
                              selection={}, timeout_s=60, created_by="user:admin",
                              rerun_of=None, task_names=["a", "b"], orgs={"bank": list(sites)})
        repo.move_job(db, job, JobState.RUNNING, "", "system")  # type: ignore[arg-type]
        repo.move_task(db, "j1", "a", TaskState.RUNNING, "", "system")  # type: ignore[arg-type]

    repo.write(env.rt, seed)
    restarted = NodeRuntime.open(NodeSettings.load(env.home))
    try:
        manager_for(restarted)
        view = repo.read(restarted, lambda db: repo.job_view(db, repo.get_job(db, "j1")))
    finally:
        restarted.close()
    assert view["state"] == "failed" and "restarted" in view["error"]
    assert [t["state"] for t in view["tasks"]] == ["failed", "cancelled"]


def test_derived_names_fit_the_dataset_name_rules() -> None:
    name = derived_name("t" * 64, "predictions", "ab" * 32)
    assert len(name) <= 64 and name.endswith(".abababababab")


def _cli() -> typer.Typer:
    app = typer.Typer()
    job_cli.register(app)
    return app


def test_cli_remote_commands_report_unreachable_nodes_and_bad_dags(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(_cli(), ["job", "status", J1, "--node", "http://127.0.0.1:9",
                               "--token", "x"])
    assert r.exit_code == 1 and "cannot reach" in r.output
    # A malformed id is refused before any request (it would be spliced into the URL).
    r = runner.invoke(_cli(), ["job", "status", "../users", "--node", "http://127.0.0.1:9"])
    assert r.exit_code == 3 and "16 lowercase hex digits" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nparties: {guest: [a]}\ntasks: {}\n")
    r = runner.invoke(_cli(), ["job", "submit", str(bad), "--node", "http://127.0.0.1:9"])
    assert r.exit_code == 3 and "at least one task" in r.output
