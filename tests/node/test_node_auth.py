"""Passwords, sessions, lockout, rate limits and API keys."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import httpx
from anyio.from_thread import start_blocking_portal
from nodekit import PASSWORD, NodeEnv, make_env
from sqlalchemy import select, update

from coalition.node import create_app
from coalition.node.auth.permissions import UserRole
from coalition.node.auth.tables import ApiKey, Session, User

LOGIN = "/api/v1/auth/login"


def _login(env: NodeEnv, username: str, password: str):  # type: ignore[no-untyped-def]
    return env.client.post(LOGIN, json={"username": username, "password": password})


def test_passwords_are_argon2_hashed(env: NodeEnv) -> None:
    with env.rt.db.session() as db:
        stored = db.scalars(select(User.password_hash).where(User.username == "auditor")).one()
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_wrong_password_and_unknown_user_look_the_same(env: NodeEnv) -> None:
    a, b = _login(env, "auditor", "wrong-password!"), _login(env, "nobody", "wrong-password!")
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


def test_repeated_failures_slow_down_that_client_only(tmp_path: Path) -> None:
    # Issue 16 finding 8: a progressive delay per (username, client), never a hard lock.
    env = make_env(tmp_path / "n", login_max_failures=3, lockout_s=600)
    try:
        for _ in range(3):
            assert _login(env, "operator", "wrong-password!").status_code == 401
        r = _login(env, "operator", PASSWORD)  # right password, but this client must wait
        assert r.status_code == 429
        assert r.json()["code"] == "auth.rate_limited"
        assert int(r.headers["retry-after"]) > 0
        kinds = [e["kind"] for e in env.client.get(
            "/api/v1/audit/events?limit=1000", headers=env.auth(UserRole.AUDITOR)).json()]
        assert "auth.login_failed" in kinds
        # The same account from another client is not affected.
        other = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_app(env.rt), client=("192.0.2.7", 4000)), base_url="http://node")
        with start_blocking_portal() as portal:
            r = portal.call(partial(other.post, LOGIN,
                                    json={"username": "operator", "password": PASSWORD}))
            portal.call(other.aclose)
        assert r.status_code == 200
    finally:
        env.close()


def test_rate_limit_per_client(tmp_path: Path) -> None:
    env = make_env(tmp_path / "n", login_rate_per_minute=20, login_max_failures=1000)
    try:
        # make_env used 4 logins from this address already
        codes = [_login(env, "nobody", "wrong-password!").status_code for _ in range(20)]
        assert codes.count(401) == 16
        assert codes[-1] == 429
    finally:
        env.close()


def test_logout_revokes_the_session(env: NodeEnv) -> None:
    token = _login(env, "auditor", PASSWORD).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/api/v1/node", headers=headers).status_code == 200
    assert env.client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert env.client.get("/api/v1/node", headers=headers).status_code == 401
    # Other sessions of the same user are untouched.
    assert env.client.get("/api/v1/node", headers=env.auth(UserRole.AUDITOR)).status_code == 200


def test_expired_session_is_refused(env: NodeEnv) -> None:
    with env.rt.db.session() as db:
        db.execute(update(Session).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    r = env.client.get("/api/v1/node", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 401


def test_admin_revokes_sessions_and_disables_users(env: NodeEnv) -> None:
    r = env.client.post("/api/v1/users/operator/sessions/revoke", headers=env.auth())
    assert r.json() == {"revoked": 1}
    assert env.client.get("/api/v1/node", headers=env.auth(UserRole.OPERATOR)).status_code == 401
    r = env.client.patch("/api/v1/users/auditor", headers=env.auth(), json={"disabled": True})
    assert r.status_code == 200
    assert env.client.get("/api/v1/node", headers=env.auth(UserRole.AUDITOR)).status_code == 401
    assert _login(env, "auditor", PASSWORD).status_code == 401


def test_admin_cannot_lock_themselves_out(env: NodeEnv) -> None:
    r = env.client.patch("/api/v1/users/admin", headers=env.auth(), json={"role": "auditor"})
    assert r.status_code == 409


def test_role_change_takes_effect_at_once(env: NodeEnv) -> None:
    assert env.client.get("/api/v1/audit/events", headers=env.auth(UserRole.OPERATOR)).status_code == 403
    # Issue 16 finding 14: becoming an auditor needs a second approval (here: the auditor's).
    r = env.client.patch("/api/v1/users/operator", headers=env.auth(), json={"role": "auditor"})
    assert r.status_code == 409
    r = env.client.post("/api/v1/auditor-requests", headers=env.auth(),
                        json={"action": "role", "username": "operator", "role": "auditor"})
    assert r.status_code == 202
    approve = f"/api/v1/auditor-requests/{r.json()['id']}/approve"
    assert env.client.post(approve, headers=env.auth(UserRole.AUDITOR)).status_code == 200
    assert env.client.get("/api/v1/audit/events", headers=env.auth(UserRole.OPERATOR)).status_code == 200


def test_change_own_password(env: NodeEnv) -> None:
    headers = env.auth(UserRole.DATA_SCIENTIST)
    r = env.client.post("/api/v1/auth/password", headers=headers,
                        json={"current_password": "wrong-password!", "new_password": "x" * 12})
    assert r.status_code == 403
    r = env.client.post("/api/v1/auth/password", headers=headers,
                        json={"current_password": PASSWORD, "new_password": "another-password"})
    assert r.status_code == 200
    assert _login(env, "data_scientist", "another-password").status_code == 200


def test_api_key_lifecycle(env: NodeEnv) -> None:
    admin = env.auth()
    env.client.post("/api/v1/users", headers=admin,
                    json={"username": "etl", "role": "operator", "kind": "api"})
    # Scopes beyond the user's role are refused; API users cannot log in.
    r = env.client.post("/api/v1/api-keys", headers=admin,
                        json={"username": "etl", "scopes": ["audit.export"]})
    assert r.status_code == 422
    r = env.client.post("/api/v1/api-keys", headers=admin,
                        json={"username": "operator", "scopes": ["node.read"]})
    assert r.status_code == 422  # humans use sessions
    r = env.client.post("/api/v1/api-keys", headers=admin,
                        json={"username": "etl", "scopes": ["node.read", "partners.read"]})
    assert r.status_code == 201
    created = r.json()
    key = created["key"]
    with env.rt.db.session() as db:
        row = db.scalars(select(ApiKey)).one()
        assert key.split("_")[-1] not in row.secret_hash
    listed = env.client.get("/api/v1/api-keys", headers=admin).json()
    assert "key" not in listed[0]
    headers = {"Authorization": f"Bearer {key}"}
    assert env.client.get("/api/v1/partners", headers=headers).status_code == 200
    assert env.client.get("/api/v1/auth/me", headers=headers).json()["via"] == "api_key"
    assert env.client.post("/api/v1/auth/logout", headers=headers).status_code == 422
    assert env.client.delete(f"/api/v1/api-keys/{created['key_id']}", headers=admin).status_code == 200
    assert env.client.get("/api/v1/partners", headers=headers).status_code == 401
    assert env.client.delete(f"/api/v1/api-keys/{created['key_id']}", headers=admin).status_code == 409


def test_expired_api_key_is_refused(env: NodeEnv) -> None:
    admin = env.auth()
    env.client.post("/api/v1/users", headers=admin, json={"username": "etl", "role": "operator", "kind": "api"})
    r = env.client.post("/api/v1/api-keys", headers=admin,
                        json={"username": "etl", "scopes": ["node.read"], "expires_at": "2020-01-01T00:00:00Z"})
    assert r.status_code == 422
    r = env.client.post("/api/v1/api-keys", headers=admin, json={"username": "etl", "scopes": ["node.read"]})
    with env.rt.db.session() as db:
        db.execute(update(ApiKey).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert env.client.get("/api/v1/node", headers={"Authorization": f"Bearer {r.json()['key']}"}).status_code == 401
