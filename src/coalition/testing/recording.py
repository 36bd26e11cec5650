"""Record every message parties send, and search the recording for raw values.

Privacy tests wrap each party's channel with :meth:`Recorder.wrap`, run the protocol, then
assert ``find_leaks(recorder.sent_by(party), raw_values) == []``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coalition.core import codec
from coalition.core.context import Channel
from coalition.core.ids import Party

__all__ = ["RecordedMessage", "Recorder", "find_leaks"]


@dataclass(frozen=True)
class RecordedMessage:
    """One payload as it left its sender."""

    sender: Party
    receiver: Party
    key: str
    payload: bytes

    def value(self) -> Any:
        """The decoded payload."""
        return codec.decode(self.payload)


class Recorder:
    """Collects every payload sent through the channels it wrapped."""

    def __init__(self) -> None:
        self.messages: list[RecordedMessage] = []
        self._lock = threading.Lock()

    def wrap(self, channel: Channel) -> Channel:
        """A channel that records sends, then forwards to ``channel``."""
        return _RecordingChannel(channel, self)

    def add(self, msg: RecordedMessage) -> None:
        """Record one message."""
        with self._lock:
            self.messages.append(msg)

    def sent_by(self, party: Party) -> list[RecordedMessage]:
        """Messages ``party`` sent."""
        return [m for m in self.messages if m.sender == party]

    def received_by(self, party: Party) -> list[RecordedMessage]:
        """Messages ``party`` received."""
        return [m for m in self.messages if m.receiver == party]

    def total_bytes(self) -> int:
        """Bytes of all recorded payloads."""
        return sum(len(m.payload) for m in self.messages)


class _RecordingChannel:
    def __init__(self, inner: Channel, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    @property
    def party(self) -> Party:
        return self._inner.party

    @property
    def parties(self) -> Sequence[Party]:
        return self._inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        self._recorder.add(RecordedMessage(self._inner.party, to, key, bytes(payload)))
        self._inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        return self._inner.recv(frm, key, timeout)


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, np.ndarray):
        yield from value.ravel().tolist()
    elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        # registered extension objects (ciphertexts, keys): opaque by construction
        return
    else:
        yield value


def find_leaks(
    messages: Iterable[RecordedMessage],
    raw_values: Iterable[Any],
    *,
    float_tol: float = 0.0,
    ignore: Callable[[Any], bool] | None = None,
) -> list[tuple[str, Any]]:
    """Return ``(key, value)`` for every raw value found in the messages.

    Strings and bytes are searched as substrings of the raw payload bytes as well as compared
    with decoded leaves; numbers are compared with every decoded numeric leaf (exactly, or
    within ``float_tol``). Values for which ``ignore(v)`` is true (say 0 and 1, which occur
    everywhere) are skipped.
    """
    raw = [v.item() if isinstance(v, np.generic) else v for v in raw_values]
    if ignore is not None:
        raw = [v for v in raw if not ignore(v)]
    texts = {v.encode() if isinstance(v, str) else v for v in raw if isinstance(v, str | bytes)}
    texts = {t for t in texts if t}
    numbers = np.array(sorted({float(v) for v in raw if isinstance(v, int | float)
                               and not isinstance(v, bool)}), dtype=np.float64)
    leaks: list[tuple[str, Any]] = []
    for msg in messages:
        leaks.extend((msg.key, t) for t in texts if t in msg.payload)
        leaves = [x for x in _leaves(msg.value())
                  if isinstance(x, int | float) and not isinstance(x, bool)]
        if numbers.size and leaves:
            found = np.array(leaves, dtype=np.float64)
            idx = np.searchsorted(numbers, found)
            for val, i in zip(found, idx, strict=True):
                for j in (i - 1, i):
                    if 0 <= j < numbers.size and abs(numbers[j] - val) <= float_tol:
                        leaks.append((msg.key, float(val)))
                        break
    return leaks
