"""Every error, from every route, is an RFC 9457 problem document."""

from __future__ import annotations

from nodekit import NodeEnv
from routes import PUBLIC, api_routes

from coalition.node import create_app

REQUIRED = {"type", "title", "status", "detail", "code"}


def _is_problem(r, status: int) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body.keys() >= REQUIRED
    assert body["status"] == status
    assert body["type"].startswith("urn:coalition:error:")


def test_every_route_without_credentials_is_401_problem(shared_env: NodeEnv) -> None:
    for case in api_routes(create_app(shared_env.rt)):
        if (case.method, case.template) in PUBLIC:
            continue
        r = shared_env.client.request(case.method, case.path)
        _is_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["code"] == "auth.unauthenticated"


def test_bad_token_is_401_problem(shared_env: NodeEnv) -> None:
    for token in ("cs_nope", "ck_0000_x", "ck_nosep", "garbage"):
        r = shared_env.client.get("/api/v1/node", headers={"Authorization": f"Bearer {token}"})
        _is_problem(r, 401)


def test_unknown_route_and_method_are_problems(shared_env: NodeEnv) -> None:
    _is_problem(shared_env.client.get("/api/v1/nothing-here"), 404)
    _is_problem(shared_env.client.delete("/api/v1/auth/login"), 405)


def test_validation_error_is_problem_and_never_echoes_input(shared_env: NodeEnv) -> None:
    secret = "hunter2-is-not-a-password"
    r = shared_env.client.post("/api/v1/auth/login", json={"username": "", "password": secret})
    _is_problem(r, 422)
    assert r.json()["errors"]
    assert secret not in r.text
    r = shared_env.client.post("/api/v1/auth/login", content=b"{not json",
                               headers={"content-type": "application/json"})
    _is_problem(r, 422)


def test_typed_errors_keep_their_code(shared_env: NodeEnv) -> None:
    r = shared_env.client.get("/api/v1/datasets/missing", headers=shared_env.auth())
    _is_problem(r, 404)
    assert r.json()["code"] == "not_found"
    r = shared_env.client.post("/api/v1/users", headers=shared_env.auth(), json={
        "username": "admin", "role": "admin", "password": "a-long-enough-password"})
    _is_problem(r, 409)
    assert r.json()["code"] == "conflict"
