"""Enumerate the API's routes with concrete sample paths and their required permission."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from coalition.node.api.deps import Require
from coalition.node.app import API_PREFIX, ROUTERS
from coalition.node.auth.permissions import Permission

PUBLIC = {("POST", "/api/v1/auth/login")}
_SAMPLES = {"key_id": "0" * 16, "grant_id": "1", "policy_id": "1", "request_id": "1"}


@dataclass(frozen=True)
class RouteCase:
    method: str
    template: str
    path: str
    permission: Permission | None

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"


def _requires(dep: Dependant) -> list[Permission]:
    found = [dep.call.permission] if isinstance(dep.call, Require) else []
    for sub in dep.dependencies:
        found += _requires(sub)
    return found


def api_routes(app: FastAPI) -> list[RouteCase]:
    """Every route of the node's routers; checked against the app's OpenAPI paths."""
    cases = []
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            perms = _requires(route.dependant)
            if len(perms) > 1:
                raise AssertionError(f"{route.path} declares {len(perms)} permissions")
            template = API_PREFIX + route.path
            path = re.sub(r"{(\w+)}", lambda m: _SAMPLES.get(m.group(1), "x"), template)
            for method in sorted(route.methods):
                cases.append(RouteCase(method, template, path, perms[0] if perms else None))
    served = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    listed = {(c.method, c.template) for c in cases}
    if served != listed:
        raise AssertionError(f"routes differ from the OpenAPI schema: {served ^ listed}")
    return cases
