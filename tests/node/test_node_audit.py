"""Hash-chained audit trail: every change recorded, tampering detected, auditor access."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import typer
from nodekit import NodeEnv
from sqlalchemy import delete, update
from typer.testing import CliRunner

from coalition.cli import audit as audit_cli
from coalition.node.audit import trail as audit
from coalition.node.audit.tables import AuditEvent
from coalition.node.auth.permissions import UserRole


def _cli() -> typer.Typer:
    app = typer.Typer()
    audit_cli.register(app)
    return app


def _events(env: NodeEnv) -> list[dict]:  # type: ignore[type-arg]
    r = env.client.get("/api/v1/audit/events?limit=1000", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200
    return list(r.json())


def test_init_and_user_changes_are_audited_and_chained(env: NodeEnv) -> None:
    events = _events(env)
    kinds = [e["kind"] for e in events]
    assert kinds[:2] == ["node.initialised", "user.created"]
    assert kinds.count("user.created") == 4 and kinds.count("auth.login") == 4
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    r = env.client.get("/api/v1/audit/verify", headers=env.auth(UserRole.AUDITOR))
    assert r.json()["ok"] is True and r.json()["checked"] == len(events)


def test_failed_request_writes_no_partial_state(env: NodeEnv) -> None:
    before = len(_events(env))
    r = env.client.post("/api/v1/users", headers=env.auth(),
                        json={"username": "x", "role": "admin", "password": "short"})
    assert r.status_code == 422
    assert len(_events(env)) == before


def test_auditor_exports_json_lines_that_verify_offline(env: NodeEnv) -> None:
    r = env.client.get("/api/v1/audit/export", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    prev = audit.GENESIS
    for row in rows:
        recomputed = audit.entry_hash(prev, seq=row["seq"], at=dt.datetime.fromisoformat(row["at"]),
                                      kind=row["kind"], actor=row["actor"], subject=row["subject"],
                                      details=row["details"])
        assert recomputed == row["hash"]
        prev = row["hash"]
    assert env.client.get("/api/v1/audit/export", headers=env.auth()).status_code == 403


def test_cli_verify_ok(env: NodeEnv) -> None:
    result = CliRunner().invoke(_cli(), ["audit", "verify", str(env.home), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True


def test_edited_entry_is_named(env: NodeEnv) -> None:
    with env.rt.db.session() as db:
        db.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor="user:mallory"))
    result = CliRunner().invoke(_cli(), ["audit", "verify", str(env.home)])
    assert result.exit_code == 1
    assert "BROKEN at entry 3" in result.output
    r = env.client.get("/api/v1/audit/verify", headers=env.auth(UserRole.AUDITOR)).json()
    assert r["ok"] is False and r["first_bad"] == 3


def test_deleted_entry_is_named(env: NodeEnv) -> None:
    with env.rt.db.session() as db:
        db.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
    result = CliRunner().invoke(_cli(), ["audit", "verify", str(env.home), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.output.strip().splitlines()[0])
    assert out["first_bad"] == 5 and "missing" in out["reason"]


def test_rehashed_edit_is_named(env: NodeEnv) -> None:
    # A forger who edits an entry and recomputes its own hash cannot recompute its MAC (no key):
    # the edited entry itself is named (before the audit key, the next link was the first break).
    with env.rt.db.session() as db:
        row = db.get(AuditEvent, 2)
        assert row is not None
        row.actor = "user:mallory"
        row.hash = audit.entry_hash(row.prev_hash, seq=row.seq, at=row.at, kind=row.kind,
                                    actor=row.actor, subject=row.subject, details=row.details)
    with env.rt.db.session() as db:
        result = audit.verify(db)
    assert not result.ok and result.first_bad == 2 and "MAC" in result.reason


def test_cli_export(env: NodeEnv) -> None:
    result = CliRunner().invoke(_cli(), ["audit", "export", str(env.home)])
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[0])["kind"] == "node.initialised"
