"""Request dependencies: the runtime, the caller, and the one permission each route needs.

Every route under ``/api/v1`` (except login) depends on exactly one :class:`Require`, whose
``permission`` the exhaustive permission test reads back from the route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coalition.core.errors import AuthError
from coalition.node.auth.clientip import client_ip
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.auth.tokens import authenticate
from coalition.node.errors import Unauthenticated
from coalition.node.runtime import NodeRuntime

__all__ = ["Require", "client_address", "runtime"]

_bearer = HTTPBearer(auto_error=False, description="Session token (cs_...) or API key (ck_...)")


def runtime(request: Request) -> NodeRuntime:
    """The node runtime the app was built with."""
    rt: NodeRuntime = request.app.state.runtime
    return rt


def client_address(request: Request) -> str:
    """The caller's address, for rate limiting and the audit trail: the socket peer, or behind
    a trusted proxy (``trusted_proxies``) the rightmost untrusted ``X-Forwarded-For`` hop."""
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.getlist("x-forwarded-for"),
                     runtime(request).settings.trusted_proxies)


class Require:
    """Dependency: authenticate the caller and require ``permission``; yields the Principal."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        """Resolve the bearer credential, then check the permission."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("missing bearer credentials")
        rt = runtime(request)
        with rt.db.session() as db:
            principal = authenticate(db, credentials.credentials)
        if self.permission not in principal.permissions:
            raise AuthError("permission denied", permission=str(self.permission),
                            role=str(principal.role))
        return principal
