from __future__ import annotations

from nodekit import NodeEnv

from coalition.node.auth.permissions import UserRole


def test_login_and_me(env: NodeEnv) -> None:
    r = env.client.get("/api/v1/auth/me", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200
    assert r.json()["role"] == "auditor"
    assert env.client.get("/api/v1/node").status_code == 401
