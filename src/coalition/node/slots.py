"""Per-runtime feature state, declared by the feature that owns it and held on the runtime.

A feature that keeps live state for a running node (the job manager, the serving state)
declares one :class:`Slot` for it, next to the state's class, with how to create it and how to
close it. ``rt.state(SLOT)`` returns the runtime's instance, created on first use;
``rt.close()`` closes every created instance, the last created first. The runtime imports no
feature for this: the feature hands it the slot, so state lives and dies with its runtime
instead of in module dicts keyed by ``id(rt)`` (which outlive a runtime and can be reused by
the next one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from coalition.core.errors import ConfigError

if TYPE_CHECKING:
    from coalition.node.runtime import NodeRuntime

__all__ = ["Slot", "Slots"]

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Slot(Generic[T]):
    """One kind of per-runtime state: its unique ``name``, ``create`` (called once per runtime,
    under the slot's lock), ``start`` (called once after the instance is stored, outside the
    lock: work that may itself read the slot, e.g. recovering interrupted jobs) and ``close``
    (called by ``rt.close()``)."""

    name: str
    create: Callable[[NodeRuntime], T]
    close: Callable[[T], None] | None = None
    start: Callable[[NodeRuntime, T], None] | None = None


class Slots:
    """The state instances of one runtime, by slot (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slot_locks: dict[str, threading.Lock] = {}
        self._held: dict[str, tuple[Slot[Any], Any]] = {}
        self._closed = False

    def get(self, rt: NodeRuntime, slot: Slot[T]) -> T:
        """The instance of ``slot`` for ``rt``, created (and started) on first use.

        Raises :class:`ConfigError` once the runtime is closed, or if another slot already
        uses ``slot.name``."""
        held = self._held.get(slot.name)
        if held is None:
            with self._lock:
                self._check_open()
                lock = self._slot_locks.setdefault(slot.name, threading.Lock())
            with lock:
                held = self._held.get(slot.name)
                created = held is None
                if held is None:
                    held = (slot, slot.create(rt))
                    with self._lock:
                        self._check_open()
                        self._held[slot.name] = held
            if created and slot.start is not None:
                slot.start(rt, held[1])
        if held[0] is not slot:
            raise ConfigError("two runtime slots share a name", slot=slot.name)
        value: T = held[1]
        return value

    def close(self) -> None:
        """Close every created instance, the last created first; later :meth:`get` fails."""
        with self._lock:
            self._closed = True
            held = list(self._held.values())
            self._held.clear()
        for slot, value in reversed(held):
            if slot.close is not None:
                slot.close(value)

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError("the node runtime is closed")
