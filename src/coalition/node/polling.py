"""A daemon thread that calls a node function every few seconds (cron loops of node features).

Each tick runs ``tick(rt)``; an error is logged and the next tick tries again (the database may
be closing, one bad row must not stop the loop). :meth:`PollingLoop.close` stops the thread and
waits up to ``join_s`` for a tick in progress. Features keep one loop per runtime in a
:class:`~coalition.node.slots.Slot` (see :func:`loop_slot`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["PollingLoop", "loop_slot"]

_log = logging.getLogger(__name__)


class PollingLoop:
    """Calls ``tick(rt)`` every ``poll_s`` seconds in a daemon thread named ``name-<node>``."""

    def __init__(self, rt: NodeRuntime, tick: Callable[[NodeRuntime], Any], *, name: str,
                 poll_s: float = 1.0, join_s: float = 30.0) -> None:
        self._rt, self._tick, self._name = rt, tick, name
        self._poll_s, self._join_s = poll_s, join_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{name}-{rt.name}", daemon=True)

    def begin(self) -> None:
        """Start polling."""
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self._tick(self._rt)
            except Exception:  # the database may be closing; try again next tick
                _log.exception("%s loop", self._name)

    def close(self) -> None:
        """Stop polling (waits for a tick in progress, up to ``join_s``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._join_s)


def loop_slot(key: str, tick: Callable[[NodeRuntime], Any], *, name: str,
              poll_s: float = 1.0, join_s: float = 30.0) -> Slot[PollingLoop]:
    """A runtime slot holding one started :class:`PollingLoop` of ``tick``."""
    return Slot(key, lambda rt: PollingLoop(rt, tick, name=name, poll_s=poll_s, join_s=join_s),
                close=PollingLoop.close, start=lambda _rt, loop: loop.begin())
