"""Moving big arrays between parties in batches, and counting bytes on the wire.

:func:`send_batches` / :func:`recv_batches` stream an ``(n, w)`` array as messages of at most
``batch_rows`` rows under ``ctx.sub(name)``, so no single message nears the codec's size limit
and a 10M-row set never needs one 320 MB payload. :class:`MeteredChannel` wraps a party's
channel to report bytes sent and received (the exact encoded payloads).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from coalition.core.context import Channel, Context, MessageKey
from coalition.core.errors import ProtocolError
from coalition.core.ids import Party

__all__ = ["MeteredChannel", "batch_count", "iter_batches", "metered", "recv_batches", "send_batches"]

U8 = npt.NDArray[np.uint8]


def batch_count(n: int, batch_rows: int) -> int:
    """How many messages an ``n``-row array takes (at least one, so empty sets still talk)."""
    return max(1, math.ceil(n / batch_rows))


def send_batches(ctx: Context, to: Party | Sequence[Party], key: MessageKey, values: U8, *,
                 batch_rows: int) -> None:
    """Send ``values`` in ``batch_count`` messages (the receiver knows ``n`` from the hello)."""
    for i, sub in ctx.iter(batch_count(values.shape[0], batch_rows)):
        sub.send(to, key, np.ascontiguousarray(values[i * batch_rows:(i + 1) * batch_rows]))


def iter_batches(ctx: Context, frm: Party, key: MessageKey, n: int, *, width: int,
                 batch_rows: int) -> Iterator[U8]:
    """Receive the batches of an ``n``-row array one at a time, checking their shape."""
    for i, sub in ctx.iter(batch_count(n, batch_rows)):
        part = sub.recv(frm, key)
        expect = min(batch_rows, max(0, n - i * batch_rows))
        if (not isinstance(part, np.ndarray) or part.dtype != np.uint8
                or part.shape != (expect, width)):
            raise ProtocolError("batch has the wrong shape", peer=str(frm), key=key.name,
                                expected=[expect, width],
                                got=list(getattr(part, "shape", [])))
        yield part


def recv_batches(ctx: Context, frm: Party, key: MessageKey, n: int, *, width: int,
                 batch_rows: int) -> U8:
    """Receive a whole ``(n, width)`` array sent with :func:`send_batches`."""
    parts = list(iter_batches(ctx, frm, key, n, width=width, batch_rows=batch_rows))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.uint8)


class MeteredChannel:
    """A channel that counts payload bytes sent and received."""

    def __init__(self, inner: Channel) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def party(self) -> Party:
        """The local party."""
        return self._inner.party

    @property
    def parties(self) -> Sequence[Party]:
        """All parties."""
        return self._inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Forward and count."""
        with self._lock:
            self.bytes_sent += len(payload)
        self._inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Forward and count."""
        payload = self._inner.recv(frm, key, timeout)
        with self._lock:
            self.bytes_received += len(payload)
        return payload


def metered(ctx: Context, name: str) -> tuple[Context, MeteredChannel]:
    """A context under ``ctx``'s namespace + ``name`` whose traffic is counted."""
    channel = MeteredChannel(ctx.channel)
    inner = Context(channel, namespace=f"{ctx.namespace}/{name}", executor=ctx.executor,
                    metrics=ctx.metrics, timeout=ctx.timeout, max_bytes=ctx.max_bytes)
    return inner, channel
