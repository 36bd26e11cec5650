"""Issue 16 finding 14: one administrator alone tries to get the audit trail out.

On 3deb866 an administrator created an auditor account (or moved an account to the auditor role,
or reset an auditor's password) and exported the trail with it at once. Now such changes wait
for a different administrator or an existing auditor.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import PASSWORD, NodeEnv, make_env

from coalition.node.auth.permissions import UserRole

USERS, REQUESTS, EXPORT = "/api/v1/users", "/api/v1/auditor-requests", "/api/v1/audit/export"
NEW_PASSWORD = "mallory-owns-this-1"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[NodeEnv]:
    node = make_env(tmp_path / "bank")
    yield node
    node.close()


def _login(env: NodeEnv, username: str, password: str) -> dict[str, str] | None:
    r = env.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {r.json()['token']}"} if r.status_code == 200 else None


def _second_admin(env: NodeEnv) -> dict[str, str]:
    r = env.client.post(USERS, headers=env.auth(),
                        json={"username": "admin2", "role": "admin", "password": PASSWORD})
    assert r.status_code == 201
    headers = _login(env, "admin2", PASSWORD)
    assert headers is not None
    return headers


def _can_export(env: NodeEnv, username: str, password: str) -> bool:
    headers = _login(env, username, password)
    return headers is not None and env.client.get(EXPORT, headers=headers).status_code == 200


def test_lone_admin_cannot_create_an_auditor_and_export(env: NodeEnv) -> None:
    # The direct route refuses; nothing was created.
    r = env.client.post(USERS, headers=env.auth(),
                        json={"username": "mallory", "role": "auditor", "password": NEW_PASSWORD})
    assert r.status_code == 409 and r.json()["code"] == "users.approval_required"
    assert not _can_export(env, "mallory", NEW_PASSWORD)
    # The request route: pending, and the requester's own approval is refused.
    r = env.client.post(REQUESTS, headers=env.auth(), json={
        "action": "create", "username": "mallory", "password": NEW_PASSWORD})
    assert r.status_code == 202 and r.json()["status"] == "pending"
    request_id = r.json()["id"]
    assert "password" not in r.text and NEW_PASSWORD not in r.text
    assert not _can_export(env, "mallory", NEW_PASSWORD)
    r = env.client.post(f"{REQUESTS}/{request_id}/approve", headers=env.auth())
    assert r.status_code == 403
    assert not _can_export(env, "mallory", NEW_PASSWORD)
    # Users without the approval permission cannot approve either.
    r = env.client.post(f"{REQUESTS}/{request_id}/approve",
                        headers=env.auth(UserRole.OPERATOR))
    assert r.status_code == 403
    # A different administrator approves: now the account exists and works.
    r = env.client.post(f"{REQUESTS}/{request_id}/approve", headers=_second_admin(env))
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["decided_by"] == "user:admin2"
    assert _can_export(env, "mallory", NEW_PASSWORD)
    # Every step is in the trail.
    kinds = [e["kind"] for e in env.client.get(
        "/api/v1/audit/events?limit=1000", headers=env.auth(UserRole.AUDITOR)).json()]
    assert "user.auditor_change_requested" in kinds and "user.auditor_change_approved" in kinds


def test_lone_admin_cannot_promote_an_account_to_auditor(env: NodeEnv) -> None:
    r = env.client.patch(f"{USERS}/operator", headers=env.auth(), json={"role": "auditor"})
    assert r.status_code == 409
    assert not _can_export(env, "operator", PASSWORD)
    r = env.client.post(REQUESTS, headers=env.auth(), json={
        "action": "role", "username": "operator", "role": "auditor"})
    assert r.status_code == 202
    assert env.client.post(f"{REQUESTS}/{r.json()['id']}/approve",
                           headers=env.auth()).status_code == 403
    assert not _can_export(env, "operator", PASSWORD)
    # An existing auditor may be the second person.
    r = env.client.post(f"{REQUESTS}/{r.json()['id']}/approve",
                        headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200
    assert _can_export(env, "operator", PASSWORD)


def test_lone_admin_cannot_reset_an_auditors_password(env: NodeEnv) -> None:
    r = env.client.post(f"{USERS}/auditor/password", headers=env.auth(),
                        json={"password": NEW_PASSWORD})
    assert r.status_code == 409
    assert not _can_export(env, "auditor", NEW_PASSWORD)
    r = env.client.post(REQUESTS, headers=env.auth(), json={
        "action": "password", "username": "auditor", "password": NEW_PASSWORD})
    assert r.status_code == 202
    assert env.client.post(f"{REQUESTS}/{r.json()['id']}/approve",
                           headers=env.auth()).status_code == 403
    assert not _can_export(env, "auditor", NEW_PASSWORD)
    assert _can_export(env, "auditor", PASSWORD)
    # Rejected by the auditor: the old password still works, the new one never does.
    r = env.client.post(f"{REQUESTS}/{r.json()['id']}/reject", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert not _can_export(env, "auditor", NEW_PASSWORD)


def test_auditors_are_people_not_api_keys(env: NodeEnv) -> None:
    # An API user with the auditor role would let the admin who issues its keys export alone.
    r = env.client.post(USERS, headers=env.auth(),
                        json={"username": "exporter", "role": "auditor", "kind": "api"})
    assert r.status_code == 409
    r = env.client.post(USERS, headers=env.auth(),
                        json={"username": "etl", "role": "data_scientist", "kind": "api"})
    assert r.status_code == 201
    r = env.client.post(REQUESTS, headers=env.auth(), json={
        "action": "role", "username": "etl", "role": "auditor"})
    assert r.status_code == 409
