"""The peer endpoint: a gRPC service over mutual TLS that only registered partners can call.

Two checks, both against the partner table. (1) TLS: the server's trust store is exactly the
registered partners' self-signed certificates, refreshed on every handshake through gRPC's
dynamic server credentials, so an unregistered certificate fails the handshake. (2) Per call:
the SHA-256 fingerprint of the client certificate (from the gRPC auth context) must match a
registered partner, which names the calling organisation; a partner removed a moment ago is
refused even on a connection opened before.

Messages are UTF-8 JSON objects (plain values only), one method per operation; errors travel as
gRPC status codes with the typed error's code and message in the details — never an error's
details or an untyped exception's text, which stay in this node's log (a fixed ``internal``
answer crosses instead).

Limits per partner (:mod:`coalition.node.limits`): requests larger than
``peer_max_request_bytes`` are refused by gRPC itself, and control methods (everything but the
serving hot path, which has its own quotas) spend a token of the caller's
``peer_rate_per_minute``/``peer_rate_burst`` bucket; refusals are ``RESOURCE_EXHAUSTED`` with
the typed ``limit.exceeded`` code.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import grpc
import sqlalchemy as sa

from coalition.core.errors import CoalitionError, ConfigError
from coalition.node import partners
from coalition.node.db.models import Partner
from coalition.node.identity import fingerprint_of_pem
from coalition.node.limits import RateLimiter
from coalition.node.peer_handlers import HANDLERS, UNMETERED
from coalition.node.runtime import NodeRuntime

__all__ = ["SERVICE", "PeerEndpoint", "status_for"]

SERVICE = "coalition.node.Peer"
log = logging.getLogger("coalition.node.peer")

_BY_FINGERPRINT = sa.select(Partner.__table__).where(
    Partner.__table__.c.fingerprint == sa.bindparam("fp"))
_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 401: grpc.StatusCode.UNAUTHENTICATED,
           403: grpc.StatusCode.PERMISSION_DENIED, 404: grpc.StatusCode.NOT_FOUND,
           409: grpc.StatusCode.ALREADY_EXISTS, 422: grpc.StatusCode.INVALID_ARGUMENT,
           429: grpc.StatusCode.RESOURCE_EXHAUSTED}


def status_for(exc: CoalitionError) -> grpc.StatusCode:
    """The gRPC status that carries a typed error."""
    return _STATUS.get(exc.http_status, grpc.StatusCode.INTERNAL)


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, error_code: str, message: str,
           retry_after_s: Any = None) -> NoReturn:
    info: dict[str, Any] = {"code": error_code, "message": message}
    if isinstance(retry_after_s, int):  # a rate limit: the caller may retry after this
        info["retry_after_s"] = retry_after_s
    context.abort(code, json.dumps(info))
    raise RuntimeError("grpc abort returned")  # pragma: no cover (abort always raises)


class PeerEndpoint:
    """The node's gRPC peer server (``start``/``stop``)."""

    def __init__(self, rt: NodeRuntime, max_workers: int = 8) -> None:
        self._rt = rt
        self._max_workers = max_workers
        self._roots: bytes | None = None
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._rate = RateLimiter(rt.settings.peer_rate_per_minute, rt.settings.peer_rate_burst)
        self.port = 0

    def _certificate_config(self) -> Any:
        with self._rt.db.session() as db:
            roots = b"".join(pem for _, pem in partners.trusted_roots(db))
        # With no partners yet, trust only ourselves: nobody else holds our key.
        roots = roots or self._rt.identity.cert_pem
        with self._lock:
            if roots == self._roots:
                return None  # gRPC keeps the current configuration
            self._roots = roots
        identity = self._rt.identity
        return grpc.ssl_server_certificate_configuration(
            [(identity.key_pem, identity.cert_pem)], root_certificates=roots)

    def start(self) -> PeerEndpoint:
        """Bind ``peer_host:peer_port`` (0 picks a free port, see :attr:`port`) and serve."""
        settings = self._rt.settings
        server = grpc.server(ThreadPoolExecutor(self._max_workers, thread_name_prefix="node-peer"),
                             options=[("grpc.so_reuseport", 0),
                                      ("grpc.max_receive_message_length",
                                       settings.peer_max_request_bytes)])
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            name: grpc.unary_unary_rpc_method_handler(self._wrap(fn, metered=name not in UNMETERED))
            for name, fn in HANDLERS.items()
        }),))
        creds = grpc.dynamic_ssl_server_credentials(
            self._certificate_config(), self._certificate_config,
            require_client_authentication=True)
        try:
            self.port = server.add_secure_port(f"{settings.peer_host}:{settings.peer_port}", creds)
        except RuntimeError as exc:
            raise ConfigError("cannot bind the peer endpoint", port=settings.peer_port) from exc
        server.start()
        self._server = server
        return self

    def stop(self, grace: float = 2.0) -> None:
        """Stop accepting calls; wait up to ``grace`` seconds for running ones."""
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    def _caller(self, context: grpc.ServicerContext) -> Partner:
        pems = context.auth_context().get("x509_pem_cert") or []
        if not pems:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, "auth.unauthenticated", "no client certificate")
        fingerprint = fingerprint_of_pem(pems[0])
        # One Core query, no ORM session: this runs on every call (online inference's hot path
        # included), and a session's begin/commit costs ~5x the lookup itself.
        with self._rt.db.engine.connect() as conn:
            row = conn.execute(_BY_FINGERPRINT, {"fp": fingerprint}).mappings().first()
        if row is None:
            log.warning("refused peer call from unregistered certificate %s", fingerprint)
            _abort(context, grpc.StatusCode.PERMISSION_DENIED, "auth.denied",
                   "certificate is not a registered partner")
        return Partner(**row)

    def _wrap(self, fn: Callable[[NodeRuntime, Partner, dict[str, Any]], dict[str, Any]], *,
              metered: bool = True) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        def handler(request: bytes, context: grpc.ServicerContext) -> bytes:
            partner = self._caller(context)
            try:
                if metered:
                    self._rate.take(partner.name)
            except CoalitionError as exc:
                log.warning("rate limit: refused a call from partner %s", partner.name)
                _abort(context, status_for(exc), exc.code, exc.message)
            try:
                payload = json.loads(request or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("payload must be a JSON object")
            except ValueError:
                _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "codec.refused", "payload is not a JSON object")
            try:
                result = fn(self._rt, partner, payload)
            except CoalitionError as exc:
                _abort(context, status_for(exc), exc.code, exc.message,
                       exc.details.get("retry_after_s"))
            except Exception:  # untyped: its text may hold paths or values; it stays here
                log.exception("peer call from %s failed", partner.name)
                _abort(context, grpc.StatusCode.INTERNAL, "internal", "internal error")
            return json.dumps(result, default=str).encode()

        return handler
