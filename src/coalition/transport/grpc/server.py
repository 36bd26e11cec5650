"""The peer server: receives messages for this node's parties into their mailboxes.

Every call is authenticated twice. TLS (mutual, gRPC core) refuses certificates that do not
chain to the node's :class:`~coalition.transport.tls.Trust` roots or are expired. Then, for
each call, the server reads the client certificate from the auth context and requires that it
speaks for the envelope's ``sender`` (and, with pinned trust, that it is the pinned one), so a
party cannot impersonate another; refusals are logged on the ``coalition.transport`` logger.

Payloads land in a shared :class:`~coalition.transport.spool.Spool` (bounded memory, spill
to disk) and are filed in the :class:`~coalition.transport.mailbox.Mailbox` of
``(job, task, receiver)``, created on first use so a fast sender never waits for a slow
receiver to open its channel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import NoReturn

import grpc

from coalition.core.errors import AuthError, ConfigError, PeerError, ProtocolError
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope
from coalition.transport.grpc.config import NetworkConfig
from coalition.transport.grpc.wire import ENVELOPE_MD, SERVICE
from coalition.transport.mailbox import Mailbox
from coalition.transport.spool import Held, ReceiverFull, Spool, SpoolWriter
from coalition.transport.tls import PartyIdentity, Trust

__all__ = ["PeerServer"]

log = logging.getLogger("coalition.transport")

_EMPTY = b""


class PeerServer:
    """gRPC server of one node (mutual TLS); use as a context manager or ``start``/``stop``.

    ``listen`` is ``host:port`` (port ``0`` picks a free one, see :attr:`port`); ``parties``
    are the local parties it receives for (default: the identity's party).
    """

    def __init__(self, listen: str, identity: PartyIdentity, trust: Trust, *,
                 parties: Iterable[Party] | None = None,
                 config: NetworkConfig | None = None) -> None:
        self.config = config or NetworkConfig()
        self.identity = identity
        self.trust = trust
        self.parties = frozenset(parties) if parties is not None else frozenset({identity.party})
        self._listen = listen
        self._spool = Spool(memory_budget=self.config.memory_budget,
                            spill_threshold=self.config.spill_threshold,
                            directory=self.config.spill_dir,
                            disk_budget=self.config.disk_budget)
        self._boxes: dict[tuple[str, str, Party], Mailbox] = {}
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> PeerServer:
        """Bind and serve; raises :class:`ConfigError` if the address cannot be bound."""
        opts = [("grpc.max_receive_message_length", self.config.max_message_bytes),
                ("grpc.max_send_message_length", self.config.max_message_bytes),
                ("grpc.so_reuseport", 0)]  # a second node on the same port must fail loudly
        server = grpc.server(ThreadPoolExecutor(self.config.max_workers,
                                                thread_name_prefix="coalition-peer"),
                             options=opts)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            "Push": grpc.unary_unary_rpc_method_handler(self._push),
            "PushStream": grpc.stream_unary_rpc_method_handler(self._push_stream),
            "Abort": grpc.unary_unary_rpc_method_handler(self._abort),
        }),))
        creds = grpc.ssl_server_credentials(
            [(self.identity.key_pem, self.identity.cert_pem)],
            root_certificates=self.trust.roots_pem, require_client_auth=True)
        try:
            port = server.add_secure_port(self._listen, creds)
        except RuntimeError:
            port = 0
        if port == 0:
            server.stop(None)
            raise ConfigError("cannot listen on address", listen=self._listen)
        server.start()
        self._server, self.port = server, port
        log.info("peer server for %s listening on %s", sorted(map(str, self.parties)),
                 self.address)
        return self

    @property
    def address(self) -> str:
        """``host:port`` actually bound."""
        host = self._listen.rpartition(":")[0]
        return f"{host}:{self.port}"

    def stop(self, grace: float | None = None) -> None:
        """Stop serving, drop unread payloads and spill files."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(self.config.grace if grace is None else grace).wait()
        with self._lock:
            boxes = list(self._boxes.values())
        for box in boxes:
            box.close()
        self._spool.close()

    def __enter__(self) -> PeerServer:
        return self.start() if self._server is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- mailboxes ----------------------------------------------------------------------------
    def mailbox(self, job: str, task: str, party: Party, *, arrival: bool = False) -> Mailbox:
        """The mailbox of a local party for one job task (created on first use; an arrival
        from a peer may open at most ``max_mailboxes`` of them)."""
        if party not in self.parties:
            raise ConfigError("party is not served by this node", party=str(party))
        with self._lock:
            box = self._boxes.get((job, task, party))
            if box is None:
                if arrival and len(self._boxes) >= self.config.max_mailboxes:
                    raise ReceiverFull("too many job tasks opened by peers",
                                       max_mailboxes=self.config.max_mailboxes)
                box = self._boxes[(job, task, party)] = Mailbox(
                    party, max_unread=self.config.max_unread)
            return box

    def release(self, job: str, task: str, party: Party) -> None:
        """Close a mailbox when its channel closes; late arrivals for it are dropped."""
        self.mailbox(job, task, party).close()

    # -- handlers -----------------------------------------------------------------------------
    def _admit(self, context: grpc.ServicerContext) -> tuple[Envelope, Mailbox]:
        raw = next((v for k, v in context.invocation_metadata() if k == ENVELOPE_MD), None)
        try:
            if not isinstance(raw, bytes):
                raise ProtocolError("call without an envelope")
            env = Envelope.from_bytes(raw)
        except ProtocolError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        certs = context.auth_context().get("x509_pem_cert") or [b""]
        try:
            self.trust.check(env.sender, certs[0])
        except AuthError as exc:
            log.warning("refused message from %s: %s", context.peer(), exc)
            _abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        if env.receiver not in self.parties:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"{env.receiver} is not served here")
        try:
            return env, self.mailbox(env.job, env.task, env.receiver, arrival=True)
        except ReceiverFull as exc:
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))

    def _file(self, context: grpc.ServicerContext, box: Mailbox, env: Envelope,
              held: Held) -> bytes:
        try:
            box.put(env, held)
        except ProtocolError as exc:
            log.warning("refused message: %s", exc)
            _abort(context, grpc.StatusCode.ALREADY_EXISTS, str(exc))
        except ReceiverFull as exc:  # the sender retries (backpressure)
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        return _EMPTY

    def _push(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        env, box = self._admit(context)
        if len(request) != env.size:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "payload size differs from envelope")
        try:
            held = self._spool.hold(request)
        except ReceiverFull as exc:
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        return self._file(context, box, env, held)

    def _push_stream(self, chunks: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        env, box = self._admit(context)
        try:
            writer: SpoolWriter = self._spool.writer(env.size)
        except ReceiverFull as exc:
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        try:
            for chunk in chunks:
                writer.write(chunk)
            held = writer.finish()
        except PeerError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except BaseException:
            writer.abort()  # the stream broke: the sender will retry it whole
            raise
        return self._file(context, box, env, held)

    def _abort(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        env, box = self._admit(context)
        reason = request.decode("utf-8", "replace")
        log.info("peer %s aborted job %s task %s: %s", env.sender, env.job, env.task, reason)
        box.fail(env.sender, reason)
        return _EMPTY


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    context.abort(code, details)
    raise PeerError("unreachable: grpc abort returned")  # context.abort always raises
