"""Issue 16 finding 8: the login endpoint attacked as an anonymous client.

An attacker with no account tries to lock out the administrator, to tell real usernames from
unknown ones, to escape per-client limits with a forged ``X-Forwarded-For``, and to flood the
audit trail with one row per failed guess.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import PASSWORD, NodeEnv, make_env

from coalition.node import create_app
from coalition.node.auth.permissions import UserRole

LOGIN = "/api/v1/auth/login"


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeping, no timing)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Client:
    """An HTTP client whose socket address is ``ip`` (as the ASGI server would report it)."""

    def __init__(self, portal: BlockingPortal, env: NodeEnv, ip: str) -> None:
        self._portal = portal
        transport = httpx.ASGITransport(app=create_app(env.rt), client=(ip, 40000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://node")

    def login(self, username: str, password: str, **headers: str) -> httpx.Response:
        return self._portal.call(partial(self._client.post, LOGIN, headers=headers,
                                         json={"username": username, "password": password}))

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as p:
        yield p


def _env(tmp_path: Path, **settings: Any) -> NodeEnv:
    env = make_env(tmp_path / "bank", **settings)
    clock = FakeClock()
    # Move every throttle onto the test's clock (the attributes exist only with the fix; on
    # the old code they are ignored, and the attacks below succeed).
    for name in ("login_limiter", "login_backoff", "login_failures"):
        obj = getattr(env.rt, name, None)
        if obj is not None:
            obj.clock = clock
    env.rt.fake_clock = clock  # type: ignore[attr-defined]
    return env


def _audit(env: NodeEnv, kind: str) -> list[dict[str, Any]]:
    rows = env.client.get(f"/api/v1/audit/events?kind={kind}&limit=1000",
                          headers=env.auth(UserRole.AUDITOR)).json()
    assert isinstance(rows, list)
    return rows


def test_anonymous_failures_do_not_lock_out_the_admin(tmp_path: Path,
                                                      portal: BlockingPortal) -> None:
    env = _env(tmp_path, login_max_failures=3, lockout_s=900, login_rate_per_minute=1000)
    attacker, admin = Client(portal, env, "203.0.113.66"), Client(portal, env, "198.51.100.10")
    try:
        codes = [attacker.login("admin", f"guess-{i}-aaaaaaa").status_code for i in range(25)]
        assert codes[:3] == [401, 401, 401]
        assert 429 in codes  # the attacker is slowed down...
        r = admin.login("admin", env.admin_password)  # ...the admin elsewhere is not
        assert r.status_code == 200, r.text
        assert r.json()["username"] == "admin"
        # The attacker keeps being refused while waiting; after the delay it may try again.
        r = attacker.login("admin", "another-guess-xx")
        assert r.status_code == 429
        env.rt.fake_clock.now += int(r.headers["retry-after"])  # type: ignore[attr-defined]
        assert attacker.login("admin", "another-guess-xx").status_code == 401
    finally:
        attacker.close()
        admin.close()
        env.close()


def _strip(r: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    return r.status_code, r.content, dict(r.headers)


def test_unknown_and_known_users_get_identical_answers(tmp_path: Path,
                                                      portal: BlockingPortal) -> None:
    env = _env(tmp_path, login_max_failures=3, lockout_s=900, login_rate_per_minute=1000)
    a, b = Client(portal, env, "203.0.113.1"), Client(portal, env, "203.0.113.2")
    try:
        for i in range(8):  # past the free attempts, into the delays
            known = a.login("operator", f"wrong-password-{i}")
            unknown = b.login("no-such-user", f"wrong-password-{i}")
            assert _strip(known) == _strip(unknown), i
            assert known.status_code in (401, 429)
            env.rt.fake_clock.now += 0.25  # type: ignore[attr-defined]
        assert known.status_code == 429  # the throttle answered both alike
        # A disabled account and an API user (no password) answer like an unknown name too.
        env.client.patch("/api/v1/users/auditor", headers=env.auth(), json={"disabled": True})
        env.client.post("/api/v1/users", headers=env.auth(),
                        json={"username": "etl", "role": "operator", "kind": "api"})
        c = Client(portal, env, "203.0.113.3")
        try:
            for name in ("auditor", "etl", "nobody-here"):
                assert _strip(c.login(name, PASSWORD)) == _strip(a.login("x" + name, PASSWORD))
        finally:
            c.close()
    finally:
        a.close()
        b.close()
        env.close()


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
        tmp_path: Path, portal: BlockingPortal) -> None:
    # The node sits behind a proxy at 10.0.0.5; two users reach it through the proxy, and an
    # attacker talks to the node directly with a forged X-Forwarded-For.
    env = _env(tmp_path, login_max_failures=2, lockout_s=900, login_rate_per_minute=1000,
               trusted_proxies=["10.0.0.0/24"])
    proxy, direct = Client(portal, env, "10.0.0.5"), Client(portal, env, "203.0.113.9")
    try:
        for i in range(4):  # attacker behind the proxy fails on admin
            proxy.login("admin", f"guess-{i}-aaaaaaa", **{"X-Forwarded-For": "198.51.100.77"})
        blocked = proxy.login("admin", env.admin_password, **{"X-Forwarded-For": "198.51.100.77"})
        assert blocked.status_code == 429
        # The admin, another client of the same proxy, is told apart by X-Forwarded-For; a
        # forged leftmost entry does not make them the attacker, the proxy's entry counts.
        r = proxy.login("admin", env.admin_password,
                        **{"X-Forwarded-For": "198.51.100.77, 192.0.2.44"})
        assert r.status_code == 200, r.text
        # Directly, X-Forwarded-For means nothing: fresh forged addresses do not reset the
        # delay of the socket address.
        for i in range(3):
            direct.login("admin", f"guess-{i}-bbbbbbb", **{"X-Forwarded-For": f"192.0.2.{i}"})
        r = direct.login("admin", env.admin_password, **{"X-Forwarded-For": "192.0.2.200"})
        assert r.status_code == 429
        clients = {row["details"].get("client") for row in _audit(env, "auth.login")}
        assert "192.0.2.44" in clients
    finally:
        proxy.close()
        direct.close()
        env.close()


def test_anonymous_failures_are_audited_in_aggregate(tmp_path: Path,
                                                     portal: BlockingPortal) -> None:
    env = _env(tmp_path, login_max_failures=1000, login_rate_per_minute=1000,
               login_audit_window_s=300)
    attacker = Client(portal, env, "203.0.113.50")
    try:
        before = len(_audit(env, "auth.login_failed"))
        for i in range(40):
            attacker.login(f"user{i % 7}", f"wrong-password-{i}")
        rows = _audit(env, "auth.login_failed")[before:]
        assert len(rows) == 1  # the window's first failure, at once
        env.rt.fake_clock.now += 301  # type: ignore[attr-defined]
        attacker.login("user0", "wrong-password-x")  # the next attempt closes the window
        rows = _audit(env, "auth.login_failed")[before:]
        assert len(rows) <= 3
        summary = next(r for r in rows if r["details"].get("window") == "closed")
        assert summary["details"]["failures"] == 40
        assert summary["details"]["distinct_users"] == 7
        assert summary["details"]["clients"] == {"203.0.113.50": 40}
    finally:
        attacker.close()
        env.close()
