"""In-memory hub: N parties in one process, one thread each (unit tests, standalone mode).

Payloads are the codec's bytes, exactly as over the network, and they go through the same
envelopes and :class:`~coalition.transport.mailbox.Mailbox` as the gRPC transport (sequence
numbers, duplicate dropping, typed timeouts), so both pass one contract suite::

    hub = MemoryHub([Party.guest(), Party.host()])
    guest_channel = hub.channel(Party.guest())
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

from coalition.core.errors import ConfigError
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope, Outbox
from coalition.transport.mailbox import Mailbox
from coalition.transport.spool import Spool

__all__ = ["MemoryChannel", "MemoryHub"]

_UNBOUNDED = 1 << 62  # payloads already live in this process: spilling would only add a copy


class MemoryHub:
    """Mailboxes for a fixed set of parties; hands out one :class:`MemoryChannel` per party."""

    def __init__(self, parties: Iterable[Party], *, job: str = "job", task: str = "task") -> None:
        self._parties = tuple(sorted(set(parties)))
        if len(self._parties) < 1:
            raise ConfigError("a hub needs at least one party")
        self.job, self.task = job, task
        self._spool = Spool(memory_budget=_UNBOUNDED, spill_threshold=_UNBOUNDED)
        # One process, no hostile peer: no cap on unread messages.
        self._boxes = {p: Mailbox(p, max_unread=sys.maxsize) for p in self._parties}

    @property
    def parties(self) -> tuple[Party, ...]:
        """All parties on this hub."""
        return self._parties

    def channel(self, party: Party) -> MemoryChannel:
        """The channel of ``party``."""
        if party not in self._boxes:
            raise ConfigError("party is not on this hub", party=str(party))
        return MemoryChannel(self, party)

    def fail(self, party: Party, reason: str) -> None:
        """Mark ``party`` as dead: peers waiting on it get a :class:`PeerError` at once."""
        for box in self._boxes.values():
            box.fail(party, reason)

    def _deliver(self, env: Envelope, payload: bytes) -> None:
        box = self._boxes.get(env.receiver)
        if box is None or env.job != self.job or env.task != self.task:
            raise ConfigError("unknown peer", peer=str(env.receiver))
        box.put(env, self._spool.hold(payload))


class MemoryChannel:
    """One party's view of a :class:`MemoryHub` (a :class:`~coalition.transport.SealingChannel`)."""

    def __init__(self, hub: MemoryHub, party: Party) -> None:
        self._hub = hub
        self._party = party
        self._outbox = Outbox(job=hub.job, task=hub.task, sender=party)

    @property
    def party(self) -> Party:
        """The local party."""
        return self._party

    @property
    def parties(self) -> Sequence[Party]:
        """All parties on the hub."""
        return self._hub.parties

    def seal(self, to: Party, key: str, size: int) -> Envelope:
        """Claim ``(to, key)`` and number the message."""
        if to not in self._hub._boxes:
            raise ConfigError("unknown peer", peer=str(to))
        return self._outbox.seal(to, key, size)

    def push(self, env: Envelope, payload: bytes) -> None:
        """Put a sealed message in its receiver's mailbox (repeats are dropped)."""
        self._hub._deliver(env, bytes(payload))

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Put ``payload`` in ``to``'s mailbox under ``key``."""
        self.push(self.seal(to, key, len(payload)), payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Take the payload ``frm`` sent under ``key``."""
        return self._hub._boxes[self._party].take(frm, key, timeout)
