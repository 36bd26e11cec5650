"""The peer endpoint: a gRPC service over mutual TLS that only registered partners can call.

Two checks, both against the partner table. (1) TLS: the server's trust store is exactly the
registered partners' self-signed certificates, refreshed on every handshake through gRPC's
dynamic server credentials, so an unregistered certificate fails the handshake. (2) Per call:
the SHA-256 fingerprint of the client certificate (from the gRPC auth context) must match a
registered partner, which names the calling organisation; a partner removed a moment ago is
refused even on a connection opened before.

The endpoint is built from the :class:`~.registry.PeerRegistry` it is given (the node's, from
:mod:`coalition.node.composition`, or a subset in tests) and answers exactly its methods:
messages are UTF-8 JSON objects validated against each method's declared request model, errors
travel as gRPC status codes with the typed error's code and message in the details (see
:mod:`.wire`) — never an error's details or an untyped exception's text, which stay in this
node's log (a fixed ``internal`` answer crosses instead). A method name the registry does not
hold is answered ``UNIMPLEMENTED`` with the typed ``peer.unknown_method`` code.

Limits per partner (:mod:`coalition.node.limits`): requests larger than
``peer_max_request_bytes`` are refused by gRPC itself, and every call but those of methods
declared unmetered (the serving hot path, which has its own quotas) spends a token of the
caller's ``peer_rate_per_minute``/``peer_rate_burst`` bucket — unknown method names included;
refusals are ``RESOURCE_EXHAUSTED`` with the typed ``limit.exceeded`` code.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import grpc
import sqlalchemy as sa

from coalition.core.errors import AuthError, CoalitionError, ConfigError
from coalition.node.errors import Unauthenticated
from coalition.node.identity import fingerprint_of_pem
from coalition.node.limits import RateLimiter
from coalition.node.metrics import metrics_of
from coalition.node.partners import directory as partners
from coalition.node.partners.tables import Partner
from coalition.node.peer.registry import PeerMethodUnknown, PeerRegistry
from coalition.node.peer.wire import INTERNAL, SERVICE, error_info, status_for
from coalition.node.runtime import NodeRuntime

__all__ = ["PeerEndpoint"]

log = logging.getLogger("coalition.node.peer")

_BY_FINGERPRINT = sa.select(Partner.__table__).where(
    Partner.__table__.c.fingerprint == sa.bindparam("fp"))
_PREFIX = f"/{SERVICE}/"


def _abort(context: grpc.ServicerContext, exc: CoalitionError) -> NoReturn:
    context.abort(status_for(exc), error_info(exc))
    raise RuntimeError("grpc abort returned")  # pragma: no cover (abort always raises)


class _Service(grpc.GenericRpcHandler):  # type: ignore[misc]  # grpc ships no types
    """Routes ``/coalition.node.Peer/<name>`` to the registry; unknown names get a typed no."""

    def __init__(self, endpoint: PeerEndpoint) -> None:
        self._endpoint = endpoint
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        path = str(handler_call_details.method)
        if not path.startswith(_PREFIX):
            return None
        name = path[len(_PREFIX):]
        handler = self._handlers.get(name)
        if handler is None:
            handler = grpc.unary_unary_rpc_method_handler(self._endpoint.handler_for(name))
            if name in self._endpoint.registry:  # cache known names only (bounded)
                self._handlers[name] = handler
        return handler


class PeerEndpoint:
    """The node's gRPC peer server (``start``/``stop``), answering ``registry``'s methods
    (by default the node's own, installed on the runtime at composition)."""

    def __init__(self, rt: NodeRuntime, registry: PeerRegistry | None = None,
                 max_workers: int = 8) -> None:
        self._rt = rt
        self.registry = registry if registry is not None else rt.peers.registry
        self.registry.check()
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
        server.add_generic_rpc_handlers((_Service(self),))
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
            _abort(context, Unauthenticated("no client certificate"))
        fingerprint = fingerprint_of_pem(pems[0])
        # One Core query, no ORM session: this runs on every call (online inference's hot path
        # included), and a session's begin/commit costs ~5x the lookup itself.
        with self._rt.db.engine.connect() as conn:
            row = conn.execute(_BY_FINGERPRINT, {"fp": fingerprint}).mappings().first()
        if row is None:
            log.warning("refused peer call from unregistered certificate %s", fingerprint)
            _abort(context, AuthError("certificate is not a registered partner"))
        return Partner(**row)

    def handler_for(self, name: str) -> Any:
        """The gRPC unary handler of method ``name`` (a typed refusal if it is unknown)."""
        # Unknown names spend the rate too: only declared unmetered methods are exempt.
        metered = name not in self.registry or self.registry.method(name).metered

        # A partner chooses the name: unknown ones share one label (bounded series).
        label = name if name in self.registry else "unknown"

        def handler(request: bytes, context: grpc.ServicerContext) -> bytes:
            partner = self._caller(context)
            metrics = metrics_of(self._rt)
            try:
                if metered:
                    self._rate.take(partner.name)
            except CoalitionError as exc:
                log.warning("rate limit: refused a call from partner %s", partner.name)
                metrics.peer_call("in", label, exc.code, 0, len(request))
                _abort(context, exc)
            try:
                reply = self.registry.dispatch(self._rt, partner.name, name, request)
            except PeerMethodUnknown as exc:
                log.warning("partner %s called unknown peer method %.64r", partner.name, name)
                metrics.peer_call("in", label, exc.code, 0, len(request))
                _abort(context, exc)
            except CoalitionError as exc:
                metrics.peer_call("in", label, exc.code, 0, len(request))
                _abort(context, exc)
            except Exception:  # untyped: its text may hold paths or values; it stays here
                log.exception("peer call %s from %s failed", name, partner.name)
                metrics.peer_call("in", label, "internal", 0, len(request))
                context.abort(grpc.StatusCode.INTERNAL, json.dumps(INTERNAL))
                raise  # pragma: no cover (abort always raises)
            metrics.peer_call("in", label, "ok", len(reply), len(request))
            return reply

        return handler
