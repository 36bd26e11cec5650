"""Names on the wire and the mapping of gRPC status codes to Coalition errors.

The service uses gRPC generic handlers with raw ``bytes`` bodies (no protoc code): the
envelope travels as binary metadata, the body is the payload (``Push``) or its chunks in order
(``PushStream``). ``Abort`` tells a peer that the sender gave up, so its waits end at once.
"""

from __future__ import annotations

from typing import Any

import grpc

from coalition.core.errors import (
    AuthError,
    CoalitionError,
    ConfigError,
    PeerError,
    PeerTimeoutError,
    ProtocolError,
)

__all__ = ["ABORT", "ENVELOPE_MD", "PUSH", "PUSH_STREAM", "RETRYABLE", "SERVICE", "error_for"]

SERVICE = "coalition.transport.v1.Peer"
PUSH = f"/{SERVICE}/Push"
PUSH_STREAM = f"/{SERVICE}/PushStream"
ABORT = f"/{SERVICE}/Abort"
ENVELOPE_MD = "coalition-envelope-bin"

# Codes after which the very same envelope may be sent again (the receiver dedupes).
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                       grpc.StatusCode.ABORTED})

_BY_CODE: dict[grpc.StatusCode, type[CoalitionError]] = {
    grpc.StatusCode.PERMISSION_DENIED: AuthError,
    grpc.StatusCode.UNAUTHENTICATED: AuthError,
    grpc.StatusCode.ALREADY_EXISTS: ProtocolError,
    grpc.StatusCode.INVALID_ARGUMENT: ProtocolError,
    grpc.StatusCode.NOT_FOUND: ConfigError,
    grpc.StatusCode.DEADLINE_EXCEEDED: PeerTimeoutError,
}


def error_for(exc: grpc.RpcError, message: str, **details: Any) -> CoalitionError:
    """The typed error for a failed call (``PeerError`` unless the code says otherwise)."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    reason = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    cls = _BY_CODE.get(code, PeerError)
    return cls(message, **details, status=code.name, reason=reason)
