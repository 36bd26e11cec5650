"""Issue 16 finding 11: what another local user, or a copy of the disk, finds in a node home.

On 3deb866 ``node.db`` and exports were world-readable (umask 022), SQL dataset URLs kept their
passwords in the database (anyone with a copy of ``node.db`` had them), and SQL tables a job
exported to ``home/jobs/<job>/inputs`` stayed there for ever.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import NodeEnv, make_env

from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.engine.states import JobState, TaskState
from coalition.node.auth.permissions import UserRole
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset, public_view
from coalition.node.data.tables import Dataset
from coalition.node.jobs import local, scheduler
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import job_dir, mint_endpoint

PASSWORD = "Pa55-w0rd-n0t-f0r-y0u"
JOB = "0123456789abcdef"
SEEN: list[str | None] = []


class PasswordSQLite(SQLiteDialect_pysqlite):
    """SQLite that accepts (and records) a password, standing in for PostgreSQL/MySQL here."""

    supports_statement_cache = True

    def create_connect_args(self, url: sa.URL) -> Any:
        SEEN.append(url.password)
        return super().create_connect_args(url._replace(username=None, password=None))


registry.register("sqlite.pwtest", __name__, "PasswordSQLite")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[NodeEnv]:
    node = make_env(tmp_path / "bank")
    yield node
    node.close()


def _sql_dataset(env: NodeEnv) -> str:
    db_file = env.home / "data" / "crm.db"
    frame = pd.DataFrame({"uid": [f"u{i}" for i in range(20)], "x": [float(i) for i in range(20)]})
    frame.to_sql("customers", sa.create_engine(f"sqlite:///{db_file}"), index=False)
    url = f"sqlite+pwtest://etl:{PASSWORD}@/{db_file}"
    r = env.client.post("/api/v1/datasets", headers=env.auth(), json={
        "name": "crm", "kind": "sql", "location": url, "table": "customers", "id_column": "uid"})
    assert r.status_code == 201, r.text
    return url


def _home_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("node.db*")) if p.is_file())


def test_sql_password_is_in_no_database_byte_and_no_view(env: NodeEnv) -> None:
    _sql_dataset(env)
    assert PASSWORD.encode() not in _home_bytes(env.home)
    for role in UserRole:
        for path in ("/api/v1/datasets", "/api/v1/datasets/crm"):
            r = env.client.get(path, headers=env.auth(role))
            assert PASSWORD not in r.text
    trail = env.client.get("/api/v1/audit/export", headers=env.auth(UserRole.AUDITOR)).text
    assert PASSWORD not in trail
    with env.rt.db.session() as db:
        assert PASSWORD not in repr(public_view(get_dataset(db, "crm")))
    # The node itself still connects with the real password (decrypted only to connect).
    SEEN.clear()
    r = env.client.get("/api/v1/datasets/crm/preview?limit=3", headers=env.auth(UserRole.DATA_SCIENTIST))
    assert r.status_code == 200 and len(r.json()["rows"]) == 3
    assert PASSWORD in SEEN


def test_sealed_password_cannot_be_repointed_by_a_database_writer(env: NodeEnv) -> None:
    # An attacker who can write node.db moves the sealed password to a user/server of theirs.
    _sql_dataset(env)
    with env.rt.db.session() as db:
        row = get_dataset(db, "crm")
        stolen = row.location.replace("etl:", "mallory:", 1)
        db.execute(update(Dataset).where(Dataset.id == row.id).values(location=stolen))
        row = get_dataset(db, "crm")
        SEEN.clear()
        with pytest.raises(CoalitionError):
            reading.load_frame(row.kind, row.location, row.table, row.id_column)
    assert PASSWORD not in SEEN


def test_password_stored_in_clear_by_an_old_node_is_sealed_at_start(env: NodeEnv) -> None:
    url = _sql_dataset(env)
    with env.rt.db.session() as db:  # as 3deb866 stored it
        db.execute(update(Dataset).where(Dataset.name == "crm").values(location=url))
    env.rt.close()
    from coalition.node import NodeRuntime
    from coalition.node.settings import NodeSettings

    env.rt = NodeRuntime.open(NodeSettings.load(env.home))
    assert PASSWORD.encode() not in _home_bytes(env.home)


def test_a_node_switched_to_sm_reseals_passwords_with_sm4_and_still_connects(
        env: NodeEnv) -> None:
    _sql_dataset(env)
    env.rt.close()
    from coalition.node import NodeRuntime
    from coalition.node.data import credentials
    from coalition.node.settings import NodeSettings

    settings = NodeSettings.load(env.home).model_copy(update={"crypto_suite": "sm"})
    env.rt = NodeRuntime.open(settings)
    with env.rt.db.session() as db:
        row = get_dataset(db, "crm")
        assert str(sa.make_url(row.location).password).startswith(credentials.SM_PREFIX)
        SEEN.clear()
        frame = reading.load_frame(row.kind, row.location, row.table, row.id_column)
    assert len(frame) == 20 and PASSWORD in SEEN
    assert PASSWORD.encode() not in _home_bytes(env.home)


def _seed_job(env: NodeEnv) -> None:
    sites = {"guest:bank": "bank"}

    def seed(db: Any) -> None:
        job = repo.create_job(db, job_id=JOB, name="x", initiator="bank", dag={}, sites=sites,
                              selection={}, timeout_s=60, created_by="user:admin",
                              rerun_of=None, task_names=["a"], orgs={"bank": list(sites)})
        repo.move_job(db, job, JobState.RUNNING, "", "system")
        repo.move_task(db, JOB, "a", TaskState.RUNNING, "", "system")

    repo.write(env.rt, seed)
    mint_endpoint(env.rt, JOB, Party.guest("bank"))  # the job's party key and certificate
    with env.rt.db.session() as db:  # the job exports its SQL input, as prepare/run do
        local._resolve(env.rt, db, JOB, "crm")


def _modes(home: Path) -> dict[str, int]:
    return {str(p.relative_to(home)): stat.S_IMODE(p.stat().st_mode)
            for p in [home, *home.rglob("*")] if not p.is_symlink()}


def test_everything_in_a_node_home_is_private_after_init_and_a_job(env: NodeEnv) -> None:
    _sql_dataset(env)
    _seed_job(env)
    inputs = job_dir(env.rt, JOB) / "inputs"
    assert any(inputs.iterdir())
    modes = _modes(env.home)
    assert {"node.db", "node.yaml", "identity/node.key",
            f"jobs/{JOB}/inputs/crm.parquet"} <= set(modes)
    open_to_others = {path: oct(mode) for path, mode in modes.items() if mode & 0o077}
    assert open_to_others == {}


@pytest.mark.parametrize("end", ["failed", "cancelled", "succeeded"])
def test_job_inputs_are_removed_when_the_job_ends(env: NodeEnv, end: str) -> None:
    _sql_dataset(env)
    _seed_job(env)
    inputs = job_dir(env.rt, JOB) / "inputs"
    assert (inputs / "crm.parquet").is_file()

    def finish(db: Any) -> None:
        job = repo.get_job(db, JOB)
        if end == "succeeded":
            repo.move_task(db, JOB, "a", TaskState.SUCCEEDED, "", "system")
            repo.move_job(db, job, JobState.SUCCEEDED, "", "system")
        else:
            scheduler.close_job(db, job, JobState(end), "stopped", "system", task="a")

    repo.write(env.rt, finish)
    assert not inputs.exists()
    assert (job_dir(env.rt, JOB) / "keys").is_dir()  # only the exported inputs go


def test_cli_audit_export_is_private_whatever_the_shell_umask(env: NodeEnv, tmp_path: Path) -> None:
    from typer import Typer
    from typer.testing import CliRunner

    from coalition.cli import audit as audit_cli

    app = Typer()
    audit_cli.register(app)
    out = tmp_path / "trail.jsonl"
    out.write_text("")
    out.chmod(0o644)
    previous = os.umask(0o022)  # an operator's usual shell
    try:
        result = CliRunner().invoke(app, ["audit", "export", str(env.home), "--out", str(out)])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_partner_sees_no_password_through_the_peer_endpoint(tmp_path: Path) -> None:
    # bank (a partner with a share) lists telco's datasets over gRPC + mTLS; telco's node.db
    # and every view of the dataset stay free of the password.
    from coalition.node.peer import PeerEndpoint

    telco, bank = make_env(tmp_path / "telco", "telco"), make_env(tmp_path / "bank", "bank")
    endpoints = [PeerEndpoint(telco.rt).start(), PeerEndpoint(bank.rt).start()]
    try:
        for me, other, ep in ((bank, telco, endpoints[0]), (telco, bank, endpoints[1])):
            bundle = other.client.get("/api/v1/node/identity", headers=other.auth()).json()
            r = me.client.post("/api/v1/partners/import", headers=me.auth(UserRole.OPERATOR),
                               json={"bundle": json.dumps(bundle),
                                     "address": f"127.0.0.1:{ep.port}"})
            assert r.status_code == 201, r.text
        _sql_dataset(telco)
        r = telco.client.put("/api/v1/datasets/crm/partners/bank", headers=telco.auth())
        assert r.status_code == 200, r.text
        seen = bank.client.get("/api/v1/partners/telco/datasets",
                               headers=bank.auth(UserRole.DATA_SCIENTIST))
        assert seen.status_code == 200 and [d["name"] for d in seen.json()] == ["crm"]
        assert PASSWORD not in seen.text
        assert PASSWORD.encode() not in _home_bytes(bank.home)
        assert PASSWORD.encode() not in _home_bytes(telco.home)
    finally:
        for ep in endpoints:
            ep.stop(0)
        telco.close()
        bank.close()
