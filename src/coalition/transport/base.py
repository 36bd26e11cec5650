"""What every Coalition transport offers beneath the ``Channel`` interface.

A :class:`SealingChannel` splits ``send`` in two steps — :meth:`~SealingChannel.seal` (claim
the key, assign a sequence number) and :meth:`~SealingChannel.push` (move the sealed message,
any number of times). Retransmitting a sealed envelope is always safe: the receiver's mailbox
drops repeats. Test wrappers (the chaos channel) use the two steps to delay, duplicate and
reorder deliveries without touching protocol code.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from coalition.core.context import Channel
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope

__all__ = ["Flushable", "SealingChannel"]


@runtime_checkable
class SealingChannel(Channel, Protocol):
    """A :class:`~coalition.core.Channel` whose sends can be sealed once and pushed again."""

    def seal(self, to: Party, key: str, size: int) -> Envelope:
        """Claim ``(to, key)`` (a second claim is a ProtocolError) and number the message."""
        ...

    def push(self, env: Envelope, payload: bytes) -> None:
        """Deliver a sealed message; repeating it is harmless."""
        ...


@runtime_checkable
class Flushable(Protocol):
    """A channel wrapper that delivers asynchronously and must be drained before closing."""

    def flush(self, timeout: float) -> None:
        """Block until every accepted send was delivered; re-raise a failed delivery."""
        ...
