"""The client side of one link: pushes sealed messages to one remote peer's server.

A push is retried with exponential backoff and jitter while the peer is unreachable (the
same envelope each time, so the receiver's mailbox drops repeats); once ``send_timeout`` has
passed it fails with a :class:`~coalition.core.errors.PeerError` naming the peer, the key and
the address — never a hang. The client dials with its own certificate and verifies that the
server's certificate carries the peer's :func:`~coalition.transport.tls.party_dns_name`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import grpc

from coalition.core.errors import AuthError, ConfigError, PeerError
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope
from coalition.transport.grpc.config import NetworkConfig
from coalition.transport.grpc.wire import (
    ABORT,
    ENVELOPE_MD,
    PUSH,
    PUSH_STREAM,
    RETRYABLE,
    error_for,
)
from coalition.transport.tls import PartyIdentity, Trust, party_dns_name

__all__ = ["PeerClient"]

log = logging.getLogger("coalition.transport")

# Failures of our own verification of the server (grpc core's wording): retrying cannot help.
_TLS_REFUSALS = ("Hostname Verification Check failed", "CERTIFICATE_VERIFY_FAILED",
                 "Custom verification check failed")


class PeerClient:
    """Pushes messages to ``peer`` at ``address`` (``host:port``) over mutual TLS."""

    def __init__(self, peer: Party, address: str, identity: PartyIdentity, trust: Trust,
                 config: NetworkConfig | None = None) -> None:
        if ":" not in address:
            raise ConfigError("peer address must be host:port", peer=str(peer), address=address)
        self.peer, self.address = peer, address
        self.config = config or NetworkConfig()
        creds = grpc.ssl_channel_credentials(root_certificates=trust.roots_for(peer),
                                             private_key=identity.key_pem,
                                             certificate_chain=identity.cert_pem)
        backoff_ms = int(self.config.backoff_initial * 1000)
        self._channel = grpc.secure_channel(address, creds, options=[
            ("grpc.ssl_target_name_override", party_dns_name(peer)),
            ("grpc.max_send_message_length", self.config.max_message_bytes),
            ("grpc.max_receive_message_length", self.config.max_message_bytes),
            # grpc core's own reconnect backoff starts at 1 s and grows to 2 min: far too slow
            # for a peer that restarts; ours is bounded by send_timeout anyway.
            ("grpc.initial_reconnect_backoff_ms", backoff_ms),
            ("grpc.min_reconnect_backoff_ms", backoff_ms),
            ("grpc.max_reconnect_backoff_ms", int(self.config.backoff_max * 1000)),
        ])
        self._push = self._channel.unary_unary(PUSH)
        self._push_stream = self._channel.stream_unary(PUSH_STREAM)
        self._abort = self._channel.unary_unary(ABORT)

    def push(self, env: Envelope, payload: bytes) -> None:
        """Deliver one message, retrying while the peer is unreachable (see module doc)."""
        metadata = ((ENVELOPE_MD, env.to_bytes()),)
        deadline = time.monotonic() + self.config.send_timeout
        delay = self.config.backoff_initial
        attempt = 0
        while True:
            attempt += 1
            remaining = max(deadline - time.monotonic(), 0.001)
            try:
                if len(payload) <= self.config.chunk_bytes:
                    self._push(payload, timeout=remaining, metadata=metadata)
                else:
                    self._push_stream(self._chunks(payload), timeout=remaining,
                                      metadata=metadata)
                return
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.Call) else None
                reason = exc.details() if isinstance(exc, grpc.Call) else str(exc)
                if reason and any(m in reason for m in _TLS_REFUSALS):
                    raise AuthError("TLS verification of the peer failed: wrong address, or a "
                                    "certificate that is not the peer's", peer=str(self.peer),
                                    key=env.full_key, address=self.address,
                                    reason=reason) from exc
                pause = delay * (0.5 + secrets.randbelow(1000) / 1000)
                if code not in RETRYABLE or time.monotonic() + pause >= deadline:
                    if code in RETRYABLE:
                        # A server that refuses our certificate just closes the socket, so
                        # this also covers "the peer does not trust us".
                        raise PeerError("peer unreachable within the send timeout (down, or "
                                        "it refused our certificate)", peer=str(self.peer),
                                        key=env.full_key, address=self.address,
                                        attempts=attempt, timeout_s=self.config.send_timeout,
                                        last_error=reason) from exc
                    raise error_for(exc, "peer refused the message", peer=str(self.peer),
                                    key=env.full_key, address=self.address) from exc
                log.debug("push to %s failed (%s), retry %d in %.2fs", self.peer, code,
                          attempt, pause)
                time.sleep(pause)
                delay = min(delay * 2, self.config.backoff_max)

    def abort(self, env: Envelope, reason: str, timeout: float = 2.0) -> None:
        """Tell the peer this party gave up (best effort: failures are only logged)."""
        try:
            self._abort(reason.encode()[:4096], timeout=timeout,
                        metadata=((ENVELOPE_MD, env.to_bytes()),))
        except grpc.RpcError as exc:
            log.info("could not notify %s of abort: %s", self.peer, exc)

    def _chunks(self, payload: bytes) -> Iterator[bytes]:
        view, step = memoryview(payload), self.config.chunk_bytes
        for offset in range(0, len(view), step):
            yield bytes(view[offset:offset + step])  # one chunk-sized copy in flight at a time

    def close(self) -> None:
        """Close the underlying gRPC channel."""
        self._channel.close()
