"""In-memory hub: N parties in one process, one thread each (unit tests, standalone mode).

Payloads are the codec's bytes, exactly as over the network, so codec allow-list problems and
privacy recorders behave the same as with the gRPC transport.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from coalition.core.errors import ConfigError, PeerError, PeerTimeoutError, ProtocolError
from coalition.core.ids import Party

__all__ = ["MemoryChannel", "MemoryHub"]


class MemoryHub:
    """Mailboxes for a fixed set of parties; hands out one :class:`MemoryChannel` per party."""

    def __init__(self, parties: Iterable[Party]) -> None:
        self._parties = tuple(sorted(set(parties)))
        if len(self._parties) < 1:
            raise ConfigError("a hub needs at least one party")
        self._boxes: dict[tuple[Party, Party, str], bytes] = {}
        self._cond = threading.Condition()
        self._failed: dict[Party, str] = {}

    @property
    def parties(self) -> tuple[Party, ...]:
        """All parties on this hub."""
        return self._parties

    def channel(self, party: Party) -> MemoryChannel:
        """The channel of ``party``."""
        if party not in self._parties:
            raise ConfigError("party is not on this hub", party=str(party))
        return MemoryChannel(self, party)

    def fail(self, party: Party, reason: str) -> None:
        """Mark ``party`` as dead: peers waiting on it get a :class:`PeerError` at once."""
        with self._cond:
            self._failed[party] = reason
            self._cond.notify_all()

    def _put(self, frm: Party, to: Party, key: str, payload: bytes) -> None:
        if to not in self._parties:
            raise ConfigError("unknown peer", peer=str(to))
        with self._cond:
            slot = (frm, to, key)
            if slot in self._boxes:
                raise ProtocolError("message key sent twice to the same peer",
                                    peer=str(to), key=key)
            self._boxes[slot] = payload
            self._cond.notify_all()

    def _take(self, frm: Party, to: Party, key: str, timeout: float) -> bytes:
        slot = (frm, to, key)
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: slot in self._boxes or frm in self._failed, timeout=timeout)
            if slot not in self._boxes and frm in self._failed:
                raise PeerError("peer failed before sending", peer=str(frm), key=key,
                                reason=self._failed[frm])
            if not arrived:
                raise PeerTimeoutError("no message from peer within the timeout",
                                       peer=str(frm), key=key, timeout_s=timeout)
            return self._boxes.pop(slot)


class MemoryChannel:
    """One party's view of a :class:`MemoryHub`."""

    def __init__(self, hub: MemoryHub, party: Party) -> None:
        self._hub = hub
        self._party = party

    @property
    def party(self) -> Party:
        """The local party."""
        return self._party

    @property
    def parties(self) -> Sequence[Party]:
        """All parties on the hub."""
        return self._hub.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Put ``payload`` in ``to``'s mailbox under ``key``."""
        self._hub._put(self._party, to, key, bytes(payload))

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Take the payload ``frm`` sent under ``key``."""
        return self._hub._take(frm, self._party, key, timeout)
