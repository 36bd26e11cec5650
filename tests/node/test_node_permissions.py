"""Every route, every role: allowed exactly when the one permission table says so."""

from __future__ import annotations

import pytest
from nodekit import PASSWORD, NodeEnv
from routes import PUBLIC, RouteCase, api_routes

from coalition.node import create_app
from coalition.node.auth.permissions import ROLE_PERMISSIONS, Permission, UserRole


def _cases(env: NodeEnv) -> list[RouteCase]:
    return api_routes(create_app(env.rt))


def test_every_route_declares_exactly_one_permission_or_is_public(shared_env: NodeEnv) -> None:
    cases = _cases(shared_env)
    assert len(cases) > 30
    for case in cases:
        if (case.method, case.template) in PUBLIC:
            assert case.permission is None
        else:
            assert case.permission is not None, case.id


def test_every_permission_is_used_by_some_route(shared_env: NodeEnv) -> None:
    used = {c.permission for c in _cases(shared_env)}
    assert used - {None} == set(Permission)


def _fresh_token(env: NodeEnv, role: UserRole) -> str:
    username = "admin" if role == UserRole.ADMIN else role.value
    password = env.admin_password if role == UserRole.ADMIN else PASSWORD
    r = env.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return str(r.json()["token"])


@pytest.mark.parametrize("role", list(UserRole), ids=lambda r: r.value)
def test_role_matrix(shared_env: NodeEnv, role: UserRole) -> None:
    denied, allowed = [], []
    for case in _cases(shared_env):
        if case.permission is None:
            continue
        token = shared_env.tokens[role]
        if case.template == "/api/v1/auth/logout":
            token = _fresh_token(shared_env, role)  # logging out would end the shared session
        body = {} if case.method in ("POST", "PUT", "PATCH") else None
        r = shared_env.client.request(case.method, case.path, json=body,
                               headers={"Authorization": f"Bearer {token}"})
        expected_allowed = case.permission in ROLE_PERMISSIONS[role]
        if expected_allowed:
            assert r.status_code not in (401, 403), (case.id, r.status_code, r.text)
            allowed.append(case.id)
        else:
            assert r.status_code == 403, (case.id, r.status_code, r.text)
            assert r.json()["code"] == "auth.denied"
            assert r.json()["details"]["permission"] == case.permission.value
            denied.append(case.id)
    # The matrix is not vacuous for any role.
    assert allowed
    assert denied


def test_api_key_scopes_narrow_the_role(shared_env: NodeEnv) -> None:
    admin = shared_env.auth()
    r = shared_env.client.post("/api/v1/users", headers=admin,
                        json={"username": "etl", "role": "data_scientist", "kind": "api"})
    assert r.status_code == 201
    r = shared_env.client.post("/api/v1/api-keys", headers=admin,
                        json={"username": "etl", "scopes": ["datasets.read"]})
    assert r.status_code == 201
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    assert shared_env.client.get("/api/v1/datasets", headers=key).status_code == 200
    r = shared_env.client.get("/api/v1/partners", headers=key)  # role allows it, the key does not
    assert r.status_code == 403
    assert r.json()["details"]["permission"] == "partners.read"
