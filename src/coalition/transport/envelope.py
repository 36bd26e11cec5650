"""The envelope every message travels in, on every transport.

An envelope names the job and task, sender and receiver, the namespace and key the protocol
used, a per-link sequence number and the payload size. ``(job, task, sender, receiver,
full_key)`` identifies a message; ``seq`` tells a retransmission (same key, same seq: dropped
idempotently) from a protocol bug (same key, another seq: refused).
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass

import msgpack

from coalition.core.errors import ProtocolError
from coalition.core.ids import Party

__all__ = ["Envelope", "Outbox"]

_FIELDS = 8


@dataclass(frozen=True)
class Envelope:
    """Metadata of one message; the payload travels beside it."""

    job: str
    task: str
    sender: Party
    receiver: Party
    namespace: str
    key: str
    seq: int
    size: int

    @classmethod
    def for_key(cls, *, job: str, task: str, sender: Party, receiver: Party, full_key: str,
                seq: int, size: int) -> Envelope:
        """Split a channel-level ``namespace/key`` and build the envelope."""
        namespace, _, key = full_key.rpartition("/")
        return cls(job, task, sender, receiver, namespace, key, seq, size)

    @property
    def full_key(self) -> str:
        """The channel-level key, ``namespace/key``."""
        return f"{self.namespace}/{self.key}" if self.namespace else self.key

    def to_bytes(self) -> bytes:
        """Compact msgpack form (sent as gRPC binary metadata)."""
        packed: bytes = msgpack.packb([self.job, self.task, str(self.sender),
                                       str(self.receiver), self.namespace, self.key,
                                       self.seq, self.size])
        return packed

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse and validate :meth:`to_bytes` output; :class:`ProtocolError` if malformed."""
        try:
            raw = msgpack.unpackb(data)
            if not isinstance(raw, list) or len(raw) != _FIELDS:
                raise ValueError("bad envelope shape")
            job, task, sender, receiver, namespace, key, seq, size = raw
            if not all(isinstance(v, str) for v in (job, task, sender, receiver, namespace, key)):
                raise ValueError("bad envelope field types")
            if not (isinstance(seq, int) and isinstance(size, int)) or seq < 1 or size < 0:
                raise ValueError("bad envelope numbers")
            return cls(job, task, _party(sender), _party(receiver), namespace, key, seq, size)
        except Exception as exc:
            raise ProtocolError("malformed message envelope") from exc


@functools.lru_cache(maxsize=1024)
def _party(text: str) -> Party:
    # A job has a handful of parties; parsing them afresh on every message is wasted work.
    return Party.parse(text)


class Outbox:
    """Seals envelopes for one sender in one job task: one key per peer, increasing seqs.

    Sealing the same ``(receiver, full_key)`` twice is a :class:`ProtocolError` — the check that
    a protocol never sends a key twice, made where the sender can still be blamed.
    """

    def __init__(self, *, job: str, task: str, sender: Party) -> None:
        self.job, self.task, self.sender = job, task, sender
        self._counters: dict[Party, itertools.count[int]] = {}
        self._sealed: set[tuple[Party, str]] = set()
        self._lock = threading.Lock()

    def seal(self, receiver: Party, full_key: str, size: int) -> Envelope:
        """The envelope for a new message to ``receiver`` under ``full_key``."""
        with self._lock:
            if (receiver, full_key) in self._sealed:
                raise ProtocolError("message key sent twice to the same peer",
                                    peer=str(receiver), key=full_key)
            self._sealed.add((receiver, full_key))
            seq = next(self._counters.setdefault(receiver, itertools.count(1)))
        return Envelope.for_key(job=self.job, task=self.task, sender=self.sender,
                                receiver=receiver, full_key=full_key, seq=seq, size=size)
