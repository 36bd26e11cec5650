"""Calling a partner's peer endpoint with this node's certificate (mutual TLS): one client per
node, held on the runtime (``rt.peers``), for control calls and the serving hot path alike.

``rt.peers.call(org, METHOD, Request(...))`` returns ``METHOD.response``. A call to this node's
own name runs the same registry path without the network (the job scheduler treats its own
node like any participant). Channels are cached, one per partner (HTTP/2 multiplexes
concurrent calls), and reopened when the partner's address or pinned certificate changes; the
client trusts exactly the partner's pinned certificate and checks the ``coalition-<org>`` name
in it, so the address may be an IP, a load balancer or a tunnel. Failures are typed (see
:mod:`.wire`): a misspelt method or a partner's untyped failure is never "unreachable".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from pydantic import ValidationError

from coalition.core.errors import CoalitionError, PeerError
from coalition.node.identity import tls_name_of_pem
from coalition.node.metrics import metrics_of
from coalition.node.partners.directory import get_partner
from coalition.node.partners.tables import Partner
from coalition.node.peer.method import PeerMethod, PeerRequest, PeerResponse
from coalition.node.peer.registry import PeerRegistry
from coalition.node.peer.wire import SERVICE, translate
from coalition.node.runtime import NodeRuntime

__all__ = ["PeerClient"]

Resp = TypeVar("Resp", bound=PeerResponse)
_Stub = Callable[..., bytes]
_CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    # A partner back from a restart is used again within a second or two, not after gRPC's
    # default reconnect backoff (up to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class PeerClient:
    """Calls of this node to partners (and to itself); thread-safe. ``registry`` is the node's
    own: it answers calls to this node's name."""

    def __init__(self, rt: NodeRuntime, registry: PeerRegistry) -> None:
        self._rt = rt
        self.registry = registry
        self._lock = threading.Lock()
        self._open: dict[str, tuple[tuple[str, str], grpc.Channel, dict[str, _Stub]]] = {}

    def call(self, to: str | Partner, method: PeerMethod[Any, Resp], request: PeerRequest, *,
             timeout_s: float | None = None) -> Resp:
        """Call ``method`` at organisation ``to`` (a name, or a partner row already loaded:
        the serving hot path). Remote typed errors come back typed."""
        if not isinstance(request, method.request):
            raise TypeError(f"{method.name} takes a {method.request.__name__}")
        raw = self._send(to, method.name, request.model_dump_json().encode(), timeout_s,
                         method.errors)
        try:
            return method.response.model_validate_json(raw)
        except ValidationError:
            org = to if isinstance(to, str) else to.name
            raise PeerError("partner sent a malformed reply", partner=org,
                            method=method.name) from None

    def call_raw(self, to: str | Partner, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a hand-built payload to a method by name: for tests and tools that play a
        foreign or hostile partner. Node code calls :meth:`call` with a declared method."""
        errors = self.registry.method(name).errors if name in self.registry else ()
        raw = self._send(to, name, json.dumps(payload).encode(), None, errors)
        result = json.loads(raw)
        if not isinstance(result, dict):
            raise PeerError("partner sent a malformed reply", method=name)
        return result

    def _send(self, to: str | Partner, name: str, body: bytes, timeout_s: float | None,
              errors: tuple[type[CoalitionError], ...]) -> bytes:
        if isinstance(to, str) and to == self._rt.name:
            return self.registry.dispatch(self._rt, self._rt.name, name, body)
        partner = self._partner(to) if isinstance(to, str) else to
        timeout = self._rt.settings.peer_timeout_s if timeout_s is None else timeout_s
        stub = self._stub(partner, name)
        metrics = metrics_of(self._rt)
        try:
            reply: bytes = stub(body, timeout=timeout)
        except grpc.RpcError as exc:
            error = translate(exc, partner.name, name, timeout, {e.code: e for e in errors})
            metrics.peer_call("out", name, error.code, len(body), 0)
            raise error from None
        metrics.peer_call("out", name, "ok", len(body), len(reply))
        return reply

    def _partner(self, org: str) -> Partner:
        with self._rt.db.session() as db:
            partner = get_partner(db, org)
            db.expunge(partner)
            return partner

    def _stub(self, partner: Partner, name: str) -> _Stub:
        ident = (partner.address, partner.fingerprint)
        with self._lock:
            entry = self._open.get(partner.name)
            if entry is None or entry[0] != ident:
                if entry is not None:
                    entry[1].close()
                pem = partner.certificate_pem.encode()
                identity = self._rt.identity
                creds = grpc.ssl_channel_credentials(
                    root_certificates=pem, private_key=identity.key_pem,
                    certificate_chain=identity.cert_pem)
                options = [("grpc.ssl_target_name_override", tls_name_of_pem(pem)),
                           *_CHANNEL_OPTIONS]
                entry = (ident, grpc.secure_channel(partner.address, creds, options=options), {})
                self._open[partner.name] = entry
            stubs = entry[2]
            stub = stubs.get(name)
            if stub is None:
                stub = stubs[name] = entry[1].unary_unary(f"/{SERVICE}/{name}")
            return stub

    def open_channels(self) -> list[str]:
        """The partners with an open (cached) channel, sorted."""
        with self._lock:
            return sorted(self._open)

    def close(self) -> None:
        """Close every channel (the client opens new ones if used again)."""
        with self._lock:
            for _, channel, _ in self._open.values():
                channel.close()
            self._open.clear()
