"""Backup while the node writes, restore into a new home (and a new database), and refusals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from nodekit import PASSWORD, ApiClient, NodeEnv, database_url, make_env
from typer.testing import CliRunner

from coalition.cli.app import app
from coalition.core.errors import ConflictError, InputError
from coalition.node import NodeRuntime, create_app
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.backup import MANIFEST, backup_node, restore_node
from coalition.node.identity import load_identity
from coalition.node.settings import NodeSettings


@pytest.fixture
def node(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[NodeEnv]:
    # the crypto suite (indirect parameter): sm chains with SM3/HMAC-SM3, checkpoints with SM2
    env = make_env(tmp_path / "bank", crypto_suite=getattr(request, "param", "standard"))
    (env.home / "models" / "m1").mkdir(parents=True)
    (env.home / "models" / "m1" / "part.bin").write_bytes(b"model part")
    yield env
    env.close()


def _restore(backup: Path, home: Path) -> dict[str, object]:
    """Restore with the CLI, onto a fresh database on PostgreSQL (the old one is in use)."""
    args = ["node", "restore", str(backup), str(home), "--json"]
    url = database_url()
    if url is not None:
        args += ["--database-url", url]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize("node", ["standard", "sm"], indirect=True)
def test_backup_while_the_node_writes_restores_a_node_that_starts(node: NodeEnv,
                                                                  tmp_path: Path) -> None:
    stop = threading.Event()
    written = [0]

    def writer() -> None:  # the node keeps committing audited changes during the backup
        while not stop.is_set():
            with node.rt.db.session() as db:
                emit(db, Event(EventKind.PARTNER_HEALTH_CHECKED, "system", "partner:x"))
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        res = CliRunner().invoke(app, ["node", "backup", str(node.home), str(tmp_path / "bk"),
                                       "--json"])
    finally:
        stop.set()
        thread.join()
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["node"] == "bank"
    assert written[0] > 0

    info = _restore(tmp_path / "bk", tmp_path / "restored")
    home = tmp_path / "restored"
    assert info["revision"] == info["backup_revision"]
    assert isinstance(info["audit_entries"], int) and info["audit_entries"] > 0
    assert (home / "models" / "m1" / "part.bin").read_bytes() == b"model part"
    assert load_identity(home / "identity").fingerprint == node.rt.identity.fingerprint
    assert (home / "identity" / "node.key").stat().st_mode & 0o077 == 0

    rt = NodeRuntime.open(NodeSettings.load(home))  # the trail and its checkpoint agree
    client = ApiClient(create_app(rt))
    try:
        r = client.post("/api/v1/auth/login", json={"username": "auditor", "password": PASSWORD})
        assert r.status_code == 200, r.text
    finally:
        client.close()
        rt.close()


def test_restore_refuses_a_changed_backup_and_a_used_home(node: NodeEnv, tmp_path: Path) -> None:
    backup = backup_node(node.home, tmp_path / "bk").out
    manifest = json.loads((backup / MANIFEST).read_text())
    assert "database/node.pgdump" in manifest["files"] or "database/node.db" in manifest["files"]
    assert not any(name.endswith("node.log") for name in manifest["files"])

    with pytest.raises(ConflictError):
        restore_node(backup, node.home)
    with pytest.raises(ConflictError):
        backup_node(node.home, backup)

    (backup / "home" / "models" / "m1" / "part.bin").write_bytes(b"tampered")
    target = tmp_path / "restored"
    with pytest.raises(InputError):
        restore_node(backup, target, database_url=database_url())
    assert not target.exists()  # nothing written before every checksum held


def test_keys_kept_outside_the_home_come_back_where_the_settings_put_them(
        tmp_path: Path) -> None:
    keys = tmp_path / "keys"  # as in deploy/compose.yaml: the audit seal on another volume
    env = make_env(tmp_path / "bank", audit_key_file=keys / "audit.key",
                   audit_checkpoint_file=keys / "audit-checkpoint.json")
    env.close()
    backup = backup_node(env.home, tmp_path / "bk").out
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["keys"]["audit.key"] == "keys/audit.key"
    key = (keys / "audit.key").read_bytes()
    for path in keys.iterdir():  # a new machine: the keys volume is empty
        path.unlink()
    result = restore_node(backup, tmp_path / "restored", database_url=database_url())
    assert (keys / "audit.key").read_bytes() == key
    assert result.audit_entries > 0
    # A different key already there is never overwritten.
    (keys / "audit.key").write_bytes(b"x" * 32)
    with pytest.raises(ConflictError):
        restore_node(backup, tmp_path / "again", database_url=database_url())
    assert not (tmp_path / "again").exists()
