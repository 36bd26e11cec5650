"""Problem documents back into typed errors.

A node answers every failure with an RFC 9457 problem document carrying a stable ``code``
(see :mod:`coalition.core.errors`). :func:`error_from_problem` turns one back into an
exception that is both a :class:`RemoteError` (so callers can tell "the node said no" from a
local failure) and the typed error its code names: ``not_found`` → :class:`NotFoundError`,
``auth.unauthenticated`` → :class:`AuthError` (by its ``auth.`` family), and so on. A code the
client does not know still becomes a typed error — its family by HTTP status — that keeps the
code, the status and the details, so nothing the node said is lost.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from coalition.core.errors import (
    AuthError,
    CoalitionError,
    CodecError,
    ConfigError,
    ConflictError,
    CryptoError,
    EncodingOverflowError,
    InputError,
    NotFoundError,
    PeerError,
    PeerTimeoutError,
    ProtocolError,
)

__all__ = ["NodeUnreachableError", "RemoteError", "error_from_problem"]

# Exact codes first; then a code's family (the part before the first dot); then the status.
_BY_CODE: dict[str, type[CoalitionError]] = {cls.code: cls for cls in (
    AuthError, CodecError, ConfigError, ConflictError, CryptoError, EncodingOverflowError,
    InputError, NotFoundError, PeerError, PeerTimeoutError, ProtocolError)}
_BY_FAMILY: dict[str, type[CoalitionError]] = {
    "auth": AuthError, "users": ConflictError, "config": ConfigError, "input": InputError,
    "request": InputError, "dag": ConfigError, "peer": PeerError, "crypto": CryptoError,
    "codec": CodecError, "protocol": ProtocolError, "conflict": ConflictError,
    "not_found": NotFoundError}
_BY_STATUS: dict[int, type[CoalitionError]] = {
    400: ConfigError, 401: AuthError, 403: AuthError, 404: NotFoundError, 409: ConflictError,
    422: InputError, 429: AuthError, 502: PeerError, 504: PeerTimeoutError}


class RemoteError(CoalitionError):
    """An error a node reported. Instances are also of the typed error their code names.

    ``status`` is the HTTP status, ``errors`` the problem's structured list (request
    validation or DAG problems, each a dict), ``details`` its ``details`` object.
    """

    code: ClassVar[str] = "remote.error"

    def __init__(self, message: str, *, status: int = 500,
                 errors: list[dict[str, Any]] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = dict(details or {})  # any keys, even ``status`` or ``message``
        self.status = status
        self.errors: list[dict[str, Any]] = errors or []


class NodeUnreachableError(PeerError):
    """The node's API could not be reached at all (refused, DNS, TLS, timeout)."""

    code: ClassVar[str] = "node.unreachable"
    http_status: ClassVar[int] = 502


def _base(code: str, status: int) -> type[CoalitionError]:
    family = code.split(".", 1)[0]
    return (_BY_CODE.get(code) or _BY_FAMILY.get(family) or _BY_STATUS.get(status)
            or (CoalitionError if status >= 500 else InputError))


@lru_cache(maxsize=512)  # bounded: codes come from the server
def _remote_class(code: str, status: int) -> type[RemoteError]:
    """One class per (code, status): a :class:`RemoteError` and the code's typed error."""
    base = _base(code, status)
    name = f"Remote{base.__name__}"
    cls = type(name, (RemoteError, base), {"code": code, "http_status": status,
                                            "__module__": __name__})
    return cls


def error_from_problem(status: int, body: Any) -> RemoteError:
    """The typed error for a failed response: ``body`` is its parsed JSON (a problem document)
    or anything else (then only the status is known)."""
    if not isinstance(body, dict):
        return _remote_class("http.error", status)(f"HTTP {status}", status=status)
    code = body.get("code")
    code = code if isinstance(code, str) and code else "http.error"
    detail = body.get("detail")
    message = detail if isinstance(detail, str) and detail else str(body.get("title") or status)
    details = body.get("details")
    errors = body.get("errors")
    return _remote_class(code, status)(
        message, status=status,
        errors=[e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else None,
        details=details if isinstance(details, dict) else None)
