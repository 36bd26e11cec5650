"""Test helpers for node tests: a sync httpx client over the ASGI app, node homes, role tokens."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI

from coalition.client import NodeClient
from coalition.node import NodeRuntime, create_app, init_node
from coalition.node.auth.permissions import UserRole
from coalition.node.settings import NodeSettings

# Set by tests/pg_cluster.py (make test's PostgreSQL pass): every node made here gets a fresh
# database of its own on that server instead of its SQLite file.
POSTGRES = os.environ.get("COALITION_TEST_POSTGRES")


def database_url() -> str | None:
    """A fresh database for one node on the test PostgreSQL server; ``None``: SQLite."""
    if POSTGRES is None:
        return None
    from pg_cluster import create_database

    return create_database(POSTGRES)

FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}
PASSWORD = "correct-horse-battery"


class ApiClient:
    """httpx against the ASGI app in-process (no sockets), driven synchronously from tests."""

    def __init__(self, app: FastAPI) -> None:
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://node")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._portal_cm.__exit__(None, None, None)


class AppTransport(httpx.BaseTransport):
    """A synchronous httpx transport into an ASGI app in-process (for :class:`NodeClient`)."""

    def __init__(self, app: FastAPI) -> None:
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            inner = httpx.Request(request.method, request.url, headers=request.headers,
                                  content=request.read())
            response = await self._asgi.handle_async_request(inner)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._portal.call(send)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


def app_client(rt: NodeRuntime, token: str = "") -> NodeClient:
    """A :class:`NodeClient` whose requests reach ``rt``'s API app in-process."""
    http = httpx.Client(base_url="http://node", transport=AppTransport(create_app(rt)))
    return NodeClient("http://node", token, http=http)


@dataclass
class NodeEnv:
    """A node home, its runtime and an API client, plus a session token per role."""

    home: Path
    rt: NodeRuntime
    client: ApiClient
    admin_password: str
    tokens: dict[UserRole, str]

    def auth(self, role: UserRole = UserRole.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def close(self) -> None:
        self.client.close()
        self.rt.close()


def make_env(home: Path, name: str = "bank", data_dirs: list[Path] | None = None,
             **settings: Any) -> NodeEnv:
    """Create a node home with fast Argon2, open it, and log in one user per role."""
    # The first auditor comes with init: later ones need a second person's approval.
    settings.setdefault("database_url", database_url())
    result = init_node(home, name, peer_port=0, data_dirs=data_dirs, auditor_username="auditor",
                       auditor_password=PASSWORD, **FAST_ARGON2, **settings)
    rt = NodeRuntime.open(NodeSettings.load(home))
    client = ApiClient(create_app(rt))
    token = client.post("/api/v1/auth/login",
                        json={"username": "admin", "password": result.admin_password}).json()["token"]
    tokens = {UserRole.ADMIN: token}
    for role in UserRole:
        if role == UserRole.ADMIN:
            continue
        if role != UserRole.AUDITOR:
            r = client.post("/api/v1/users", headers={"Authorization": f"Bearer {token}"},
                            json={"username": role.value, "role": role.value, "password": PASSWORD})
            if r.status_code != 201:
                raise RuntimeError(r.text)
        tokens[role] = client.post("/api/v1/auth/login", json={
            "username": role.value, "password": PASSWORD}).json()["token"]
    return NodeEnv(home, rt, client, result.admin_password, tokens)
