"""Calling a partner's peer endpoint with this node's certificate (mutual TLS).

The client trusts exactly the partner's pinned certificate and checks the ``coalition-<org>``
name in it, so the address may be an IP, a load balancer or a tunnel.
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
from coalition.node.db.models import Partner
from coalition.node.identity import tls_name_of_pem
from coalition.node.limits import LimitError
from coalition.node.peer import SERVICE
from coalition.node.runtime import NodeRuntime

__all__ = ["call_partner", "translate_rpc_error"]

_ERRORS: dict[grpc.StatusCode, type[CoalitionError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InputError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: ConflictError,
    grpc.StatusCode.PERMISSION_DENIED: AuthError,
    grpc.StatusCode.UNAUTHENTICATED: AuthError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: LimitError,
}


def translate_rpc_error(exc: grpc.RpcError, org: str, method: str, timeout_s: float,
                        by_remote_code: Mapping[str, type[CoalitionError]] | None = None,
                        ) -> CoalitionError:
    """A failed peer call as a local typed error: too slow → :class:`PeerTimeoutError`; down
    or refusing our certificate → :class:`PeerError`; a remote typed error keeps its kind
    (by gRPC status, or exactly by its code where ``by_remote_code`` names it)."""
    code = exc.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return PeerTimeoutError(f"partner {org} did not answer within {timeout_s:g} s",
                                partner=org, method=method, timeout_s=timeout_s)
    try:
        info = json.loads(exc.details() or "{}")
    except ValueError:
        info = {}
    message = info.get("message") if isinstance(info, dict) else None
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and message is None:  # gRPC's size cap
        return LimitError(f"partner {org} refused the request as too large", partner=org,
                          method=method)
    if code == grpc.StatusCode.UNAVAILABLE or message is None:
        return PeerError(f"partner {org} unreachable or refused the TLS handshake",
                         partner=org, method=method, grpc=code.name)
    remote = info.get("code")
    error = (by_remote_code or {}).get(str(remote), _ERRORS.get(code, PeerError))
    return error(f"partner {org}: {message}", partner=org, remote_code=remote)


def call_partner(rt: NodeRuntime, partner: Partner, method: str,
                 payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call ``method`` on ``partner``; remote typed errors come back as local typed errors."""
    creds = grpc.ssl_channel_credentials(
        root_certificates=partner.certificate_pem.encode(),
        private_key=rt.identity.key_pem, certificate_chain=rt.identity.cert_pem)
    options = [("grpc.ssl_target_name_override", tls_name_of_pem(partner.certificate_pem.encode()))]
    with grpc.secure_channel(partner.address, creds, options=options) as channel:
        stub = channel.unary_unary(f"/{SERVICE}/{method}")
        try:
            raw = stub(json.dumps(payload or {}).encode(), timeout=rt.settings.peer_timeout_s)
        except grpc.RpcError as exc:
            raise translate_rpc_error(exc, partner.name, method,
                                      rt.settings.peer_timeout_s) from None
    result = json.loads(raw)
    if not isinstance(result, dict):
        raise PeerError("partner sent a malformed reply", partner=partner.name, method=method)
    return result
