"""One receiver's mailbox for one job task: exactly-once delivery over an at-least-once wire.

Arrivals are keyed by ``(sender, full_key)``. A second arrival with the same key and the same
sequence number is a retransmission and is dropped (even after the first was read); the same
key with another sequence number means the sender's protocol sent a key twice, which is a
:class:`~coalition.core.errors.ProtocolError`. Readers wait with a timeout, and learn at once
when the sender is known to have failed. A sender may have at most ``max_unread`` messages
waiting here; beyond that an arrival is refused with
:class:`~coalition.transport.spool.ReceiverFull` (the sender retries), so a peer cannot make
this party hold messages it never reads without bound.
"""

from __future__ import annotations

import threading
from collections import Counter

from coalition.core.errors import PeerError, PeerTimeoutError, ProtocolError
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope
from coalition.transport.spool import Held, ReceiverFull

__all__ = ["Mailbox"]


class Mailbox:
    """Messages addressed to one party in one job task (thread-safe)."""

    def __init__(self, receiver: Party, *, max_unread: int = 100_000) -> None:
        self.receiver = receiver
        self.max_unread = max_unread
        self._unread: Counter[Party] = Counter()
        self._waiting: dict[tuple[Party, str], Held] = {}
        self._seen: dict[tuple[Party, str], int] = {}
        self._failed: dict[Party, str] = {}
        self._closed = False
        self._cond = threading.Condition()

    def put(self, env: Envelope, held: Held) -> bool:
        """File a payload; ``False`` (and the payload dropped) if it is a retransmission."""
        slot = (env.sender, env.full_key)
        with self._cond:
            seen = self._seen.get(slot)
            if seen is not None or self._closed:
                held.discard()
                if seen is None or seen == env.seq:
                    return False
                raise ProtocolError("message key sent twice to the same peer",
                                    peer=str(env.receiver), key=env.full_key,
                                    sender=str(env.sender))
            if self._unread[env.sender] >= self.max_unread:
                held.discard()  # not marked seen: the sender's retry is filed once there is room
                raise ReceiverFull("too many unread messages from this sender",
                                   sender=str(env.sender), max_unread=self.max_unread)
            self._unread[env.sender] += 1
            self._seen[slot] = env.seq
            self._waiting[slot] = held
            self._cond.notify_all()
            return True

    def take(self, sender: Party, key: str, timeout: float) -> bytes:
        """The payload ``sender`` sent under ``key``, waiting up to ``timeout`` seconds."""
        slot = (sender, key)
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: slot in self._waiting or sender in self._failed, timeout=timeout)
            held = self._waiting.pop(slot, None)
            if held is not None:
                self._unread[sender] -= 1
            if held is None and sender in self._failed:
                raise PeerError("peer failed before sending", peer=str(sender), key=key,
                                reason=self._failed[sender])
            if not arrived or held is None:
                raise PeerTimeoutError("no message from peer within the timeout",
                                       peer=str(sender), key=key, timeout_s=timeout)
        return held.read()

    def fail(self, sender: Party, reason: str) -> None:
        """Mark ``sender`` as failed: current and future waits on it end with a PeerError."""
        with self._cond:
            self._failed[sender] = reason
            self._cond.notify_all()

    def close(self) -> None:
        """Drop unread payloads; later arrivals are dropped too."""
        with self._cond:
            self._closed = True
            held, self._waiting = list(self._waiting.values()), {}
            self._unread.clear()
        for h in held:
            h.discard()
