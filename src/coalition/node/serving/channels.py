"""Long-lived mutual-TLS channels to partners for the serving hot path.

``peer_client.call_partner`` opens a channel (and a TLS handshake) per call, which is right
for rare control calls but costs milliseconds; online inference keeps one channel per partner
(HTTP/2 multiplexes concurrent calls on it) and reopens it when the partner's address or
certificate changes. Trust is the same: exactly the partner's pinned certificate and its
``coalition-<org>`` name.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import grpc

from coalition.core.errors import CoalitionError, PeerError
from coalition.node.db.models import Partner
from coalition.node.errors import RateLimited
from coalition.node.identity import NodeIdentity, tls_name_of_pem
from coalition.node.models.integrity import ModelTampered
from coalition.node.peer import SERVICE
from coalition.node.peer_client import translate_rpc_error
from coalition.node.serving.limits import ServingQuotaExceeded, ServingRateLimited
from coalition.protocols.linear.predict import TooFewFeatures

__all__ = ["PartnerChannels"]

# Remote errors whose meaning must survive the hop exactly (a tampered host part is an alert).
# A host's quota/rate refusal stays a 429 (with its Retry-After) for the guest's caller.
_BY_REMOTE_CODE: dict[str, type[CoalitionError]] = {
    ModelTampered.code: ModelTampered, ServingRateLimited.code: ServingRateLimited,
    ServingQuotaExceeded.code: ServingQuotaExceeded, TooFewFeatures.code: TooFewFeatures}
Stub = Callable[..., bytes]


def _retry_after(exc: grpc.RpcError) -> int:
    try:
        value = json.loads(exc.details() or "{}").get("retry_after_s")
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, int) and 0 < value <= 86_400 else 1


class PartnerChannels:
    """One cached channel per partner; :meth:`call` is thread-safe."""

    def __init__(self, identity: NodeIdentity) -> None:
        self._identity = identity
        self._lock = threading.Lock()
        self._open: dict[str, tuple[tuple[str, str], grpc.Channel, dict[str, Stub]]] = {}

    def _stub(self, partner: Partner, method: str) -> Stub:
        ident = (partner.address, partner.fingerprint)
        with self._lock:
            entry = self._open.get(partner.name)
            if entry is None or entry[0] != ident:
                if entry is not None:
                    entry[1].close()
                creds = grpc.ssl_channel_credentials(
                    root_certificates=partner.certificate_pem.encode(),
                    private_key=self._identity.key_pem,
                    certificate_chain=self._identity.cert_pem)
                options = [("grpc.ssl_target_name_override",
                            tls_name_of_pem(partner.certificate_pem.encode())),
                           # A host back from a restart is used again within a second or two,
                           # not after gRPC's default reconnect backoff (up to two minutes).
                           ("grpc.initial_reconnect_backoff_ms", 200),
                           ("grpc.max_reconnect_backoff_ms", 2000)]
                entry = (ident, grpc.secure_channel(partner.address, creds, options=options), {})
                self._open[partner.name] = entry
            stubs = entry[2]
            stub = stubs.get(method)
            if stub is None:
                stub = stubs[method] = entry[1].unary_unary(f"/{SERVICE}/{method}")
            return stub

    def call(self, partner: Partner, method: str, payload: dict[str, Any],
             timeout_s: float) -> dict[str, Any]:
        """Call ``method``; failures become typed errors (down: ``PeerError``; too slow:
        ``PeerTimeoutError``; remote typed errors keep their meaning)."""
        stub = self._stub(partner, method)
        try:
            raw = stub(json.dumps(payload).encode(), timeout=timeout_s)
        except grpc.RpcError as exc:
            error = translate_rpc_error(exc, partner.name, method, timeout_s, _BY_REMOTE_CODE)
            if isinstance(error, RateLimited):
                error.details["retry_after_s"] = _retry_after(exc)
            raise error from None
        try:
            result = json.loads(raw)
        except ValueError:
            result = None
        if not isinstance(result, dict):
            raise PeerError("partner sent a malformed reply", partner=partner.name,
                            method=method)
        return result

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for _, channel, _ in self._open.values():
                channel.close()
            self._open.clear()
