"""How typed errors cross the peer endpoint: gRPC status + a JSON ``{"code", "message"}``.

The answering node sends a typed error's code and message (and ``retry_after_s`` for a rate
limit), never its details; an untyped exception crosses as a fixed ``internal`` answer. The
calling node turns the status back into a typed error: too slow → :class:`PeerTimeoutError`;
down or refusing our certificate → :class:`PeerError` ("unreachable"); a method the partner
does not have → :class:`PeerMethodUnknown`; the partner's own untyped failure →
:class:`RemoteFailure`; any other remote typed error keeps its kind (exactly, by code, where the
method declares the class; else by gRPC status).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc

from coalition.core.errors import (
    AuthError,
    CoalitionError,
    ConflictError,
    InputError,
    NotFoundError,
    PeerError,
    PeerTimeoutError,
)
from coalition.node.errors import RateLimited
from coalition.node.limits import LimitError
from coalition.node.peer.registry import PeerMethodUnknown

__all__ = ["INTERNAL", "SERVICE", "RemoteFailure", "error_info", "status_for", "translate"]

SERVICE = "coalition.node.Peer"
INTERNAL = {"code": "internal", "message": "internal error"}

_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 401: grpc.StatusCode.UNAUTHENTICATED,
           403: grpc.StatusCode.PERMISSION_DENIED, 404: grpc.StatusCode.NOT_FOUND,
           409: grpc.StatusCode.ALREADY_EXISTS, 422: grpc.StatusCode.INVALID_ARGUMENT,
           429: grpc.StatusCode.RESOURCE_EXHAUSTED}
_ERRORS: dict[grpc.StatusCode, type[CoalitionError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InputError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: ConflictError,
    grpc.StatusCode.PERMISSION_DENIED: AuthError,
    grpc.StatusCode.UNAUTHENTICATED: AuthError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: LimitError,
    grpc.StatusCode.UNIMPLEMENTED: PeerMethodUnknown,
}
_BY_CODE: dict[str, type[CoalitionError]] = {
    PeerMethodUnknown.code: PeerMethodUnknown, LimitError.code: LimitError}
_MAX_RETRY_AFTER_S = 86_400


class RemoteFailure(PeerError):
    """The partner answered, but its handler failed with an untyped error (see its log)."""

    code = "peer.remote_failed"


def status_for(exc: CoalitionError) -> grpc.StatusCode:
    """The gRPC status that carries a typed error."""
    if isinstance(exc, PeerMethodUnknown):
        return grpc.StatusCode.UNIMPLEMENTED
    return _STATUS.get(exc.http_status, grpc.StatusCode.INTERNAL)


def error_info(exc: CoalitionError) -> str:
    """The status details for a typed error: code, message, and a rate limit's wait."""
    info: dict[str, Any] = {"code": exc.code, "message": exc.message}
    retry = exc.details.get("retry_after_s")
    if isinstance(retry, int) and not isinstance(retry, bool):
        info["retry_after_s"] = retry
    return json.dumps(info)


def translate(exc: grpc.RpcError, org: str, method: str, timeout_s: float,
              by_code: Mapping[str, type[CoalitionError]] | None = None) -> CoalitionError:
    """A failed call as a local typed error (see the module docstring)."""
    code = exc.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return PeerTimeoutError(f"partner {org} did not answer within {timeout_s:g} s",
                                partner=org, method=method, timeout_s=timeout_s)
    try:
        info = json.loads(exc.details() or "{}")
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    message = info.get("message")
    if code == grpc.StatusCode.UNIMPLEMENTED:  # also an older node without the method
        return PeerMethodUnknown(f"partner {org} has no peer method {method}", partner=org,
                                 method=method)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and message is None:  # gRPC's size cap
        return LimitError(f"partner {org} refused the request as too large", partner=org,
                          method=method)
    if code == grpc.StatusCode.UNAVAILABLE or not isinstance(message, str):
        return PeerError(f"partner {org} unreachable or refused the TLS handshake",
                         partner=org, method=method, grpc=code.name)
    remote = str(info.get("code"))
    if remote == INTERNAL["code"]:
        return RemoteFailure(f"partner {org}: {message}", partner=org, method=method,
                             remote_code=remote)
    error_type = {**_BY_CODE, **(by_code or {})}.get(remote, _ERRORS.get(code, PeerError))
    error = error_type(f"partner {org}: {message}", partner=org, remote_code=remote)
    retry = info.get("retry_after_s")
    if isinstance(retry, int) and not isinstance(retry, bool) \
            and 0 < retry <= _MAX_RETRY_AFTER_S:
        error.details["retry_after_s"] = retry
    elif isinstance(error, RateLimited):  # a rate limit without a wait: retry in a second
        error.details["retry_after_s"] = 1
    return error
