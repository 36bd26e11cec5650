"""A protocol conversation carried by unary peer calls: how a PIR batch runs between two nodes
over their mTLS peer channel (node partner certificates, no job-bound ones).

The protocol roles (:func:`coalition.protocols.pir.run_client` / ``run_server``) talk through
a :class:`~coalition.core.Context`; here each side's ``Channel`` turns messages into
:class:`Frame` s (fragments of at most :data:`FRAGMENT_BYTES`). The consumer's channel
(:class:`ConsumerChannel`) sends its pending frames with the next call whenever its role waits
for a message it does not have yet, and keeps what comes back. On the provider a
:class:`ServerSession` runs the server role in its own thread; each call delivers the
consumer's frames and returns the frames the role produced, as soon as the role waits for a
message not yet delivered, ends, or has :data:`CALL_BUDGET_BYTES` ready. What crosses is the
codec's bytes of the protocol messages, exactly as over the job transport.

A hostile consumer can hold at most :data:`MAX_PENDING_BYTES` undelivered in a session, and
a session whose consumer goes quiet ends when its role's receive times out.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from coalition.core.errors import CoalitionError, InputError, PeerTimeoutError, ProtocolError
from coalition.core.ids import Party
from coalition.node.pir_services.peer_methods import FrameModel

__all__ = ["CALL_BUDGET_BYTES", "FRAGMENT_BYTES", "NAMESPACE", "ConsumerChannel", "Frame", "Reassembly",
           "ServerSession", "fragment", "from_wire", "to_wire"]

NAMESPACE = "pir-service"
"""The Context namespace both sides' PIR roles run under."""
FRAGMENT_BYTES = 512 * 1024
CALL_BUDGET_BYTES = 2 * 1024 * 1024  # raw bytes per call: base64 makes 2.7 MiB of gRPC's 4
MAX_PENDING_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Frame:
    """Fragment ``part`` of the message under ``key``; ``last`` closes it."""

    key: str
    part: int
    last: bool
    data: bytes


def fragment(key: str, payload: bytes) -> list[Frame]:
    """``payload`` as frames of at most :data:`FRAGMENT_BYTES` (one frame if empty)."""
    n = max(1, -(-len(payload) // FRAGMENT_BYTES))
    return [Frame(key, i, i == n - 1, payload[i * FRAGMENT_BYTES:(i + 1) * FRAGMENT_BYTES])
            for i in range(n)]


def to_wire(frames: Iterable[Frame]) -> list[FrameModel]:
    """Frames as peer-call fields."""
    return [FrameModel(key=f.key, part=f.part, last=f.last,
                       data=base64.b64encode(f.data).decode("ascii")) for f in frames]


def from_wire(frames: Sequence[FrameModel]) -> list[Frame]:
    """Peer-call fields as frames (:class:`InputError` on bad base64)."""
    try:
        return [Frame(f.key, f.part, f.last, base64.b64decode(f.data, validate=True))
                for f in frames]
    except (binascii.Error, ValueError):
        raise InputError("a PIR frame is not base64", field="frames") from None


class Reassembly:
    """Messages put together from frames, by key (each key carries one message)."""

    def __init__(self, max_bytes: int = MAX_PENDING_BYTES) -> None:
        self._parts: dict[str, list[bytes]] = {}
        self._done: dict[str, bytes] = {}
        self._bytes = 0
        self._max = max_bytes

    def add(self, frames: Iterable[Frame]) -> None:
        """Take frames in order; a frame out of order or over the byte cap is refused."""
        for f in frames:
            parts = self._parts.setdefault(f.key, [])
            if f.key in self._done or f.part != len(parts):
                raise ProtocolError("PIR frame out of order", key=f.key[-64:])
            self._bytes += len(f.data)
            if self._bytes > self._max:
                raise ProtocolError("too many undelivered PIR bytes", limit=self._max)
            parts.append(f.data)
            if f.last:
                self._done[f.key] = b"".join(self._parts.pop(f.key))

    def has(self, key: str) -> bool:
        """Whether the message under ``key`` is complete."""
        return key in self._done

    def pop(self, key: str) -> bytes:
        """Take the complete message under ``key``."""
        payload = self._done.pop(key)
        self._bytes -= len(payload)
        return payload


class _Outbox:
    """Frames waiting to be sent, taken up to a byte budget per call."""

    def __init__(self) -> None:
        self._frames: deque[Frame] = deque()
        self.bytes = 0

    def put(self, key: str, payload: bytes) -> None:
        for f in fragment(key, payload):
            self._frames.append(f)
            self.bytes += len(f.data)

    def take(self, budget: int | None = None) -> list[Frame]:
        budget = CALL_BUDGET_BYTES if budget is None else budget
        out: list[Frame] = []
        size = 0
        while self._frames and (not out or size + len(self._frames[0].data) <= budget):
            f = self._frames.popleft()
            size += len(f.data)
            out.append(f)
        self.bytes -= size
        return out

    def __bool__(self) -> bool:
        return bool(self._frames)


Call = Callable[[list[Frame]], tuple[list[Frame], bool]]
"""One exchange with the provider: our frames in, ``(its frames, done)`` out."""


class ConsumerChannel:
    """The consumer's ``Channel``: messages to the provider leave with the next call."""

    def __init__(self, me: Party, provider: Party, call: Call) -> None:
        self._me, self._provider, self._call = me, provider, call
        self._inbox = Reassembly()
        self._outbox = _Outbox()
        self.done = False
        self.calls = 0

    @property
    def party(self) -> Party:
        """The consumer."""
        return self._me

    @property
    def parties(self) -> Sequence[Party]:
        """Consumer and provider."""
        return (self._me, self._provider)

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Queue ``payload`` for the provider."""
        self._outbox.put(key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Call the provider until the message under ``key`` is complete."""
        deadline = time.monotonic() + timeout
        while not self._inbox.has(key):
            if self.done and not self._outbox:
                raise ProtocolError("the provider ended the batch early", key=key[-64:])
            if time.monotonic() > deadline:
                raise PeerTimeoutError("no PIR answer in time", peer=str(frm), key=key[-64:])
            frames, self.done = self._call(self._outbox.take())
            self.calls += 1
            self._inbox.add(frames)
        return self._inbox.pop(key)


class ServerSession:
    """One batch on the provider: the server role in a thread, fed by :meth:`exchange`.

    ``run(channel)`` runs the role over the session's channel (a ``Channel``: this object);
    its exception, if any, is kept in :attr:`error` and raised to the caller of
    :meth:`exchange` once every frame the role sent has been delivered.
    """

    def __init__(self, session_id: str, partner: str, me: Party, consumer: Party,
                 run: Callable[[ServerSession], None]) -> None:
        self.id, self.partner = session_id, partner
        self._me, self._consumer = me, consumer
        self._cond = threading.Condition()
        self._inbox = Reassembly()
        self._outbox = _Outbox()
        self._waiting: str | None = None
        self._closed = False
        self.finished = False
        self.error: BaseException | None = None
        self.last_call = time.monotonic()
        self._thread = threading.Thread(target=self._main, args=(run,), daemon=True,
                                        name=f"pir-session-{session_id[:8]}")

    # -- Channel ----------------------------------------------------------------------------
    @property
    def party(self) -> Party:
        """The provider."""
        return self._me

    @property
    def parties(self) -> Sequence[Party]:
        """Consumer and provider."""
        return (self._consumer, self._me)

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Queue ``payload`` for the consumer's next call."""
        with self._cond:
            self._outbox.put(key, payload)
            self._cond.notify_all()

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Wait for the consumer's calls to deliver the message under ``key``."""
        with self._cond:
            self._waiting = key
            self._cond.notify_all()
            arrived = self._cond.wait_for(lambda: self._inbox.has(key) or self._closed, timeout)
            self._waiting = None
            if not arrived or not self._inbox.has(key):
                raise PeerTimeoutError("the consumer went quiet", peer=str(frm), key=key[-64:])
            return self._inbox.pop(key)

    # -- driving ----------------------------------------------------------------------------
    def start(self) -> ServerSession:
        """Start the role's thread."""
        self._thread.start()
        return self

    def _main(self, run: Callable[[ServerSession], None]) -> None:
        try:
            run(self)
        except BaseException as exc:  # kept for the consumer's next call
            self.error = exc
        finally:
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def _ready(self) -> bool:
        return (self.finished or self._outbox.bytes >= CALL_BUDGET_BYTES
                or (self._waiting is not None and not self._inbox.has(self._waiting)))

    def exchange(self, frames: list[Frame], wait_s: float) -> tuple[list[Frame], bool, bool]:
        """Deliver ``frames``; return ``(frames for the consumer, more, done)`` once the role
        waits for the consumer, ends or has a call's worth ready (or after ``wait_s``)."""
        with self._cond:
            self.last_call = time.monotonic()
            try:
                self._inbox.add(frames)
            except ProtocolError:
                self._closed = True
                self._cond.notify_all()
                raise
            self._cond.notify_all()
            self._cond.wait_for(self._ready, wait_s)
            out = self._outbox.take()
            done = self.finished and not self._outbox
            if done and not out and self.error is not None:
                if isinstance(self.error, CoalitionError):
                    raise self.error
                raise ProtocolError("the provider failed to answer the batch")
            return out, bool(self._outbox), done

    def close(self) -> None:
        """End the session: a role waiting for the consumer stops."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
