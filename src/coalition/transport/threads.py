"""Run every party's role in this process, one thread each, on a :class:`MemoryHub`.

The runtime of standalone mode and of in-process tests: the same role code as over gRPC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from coalition.core.context import Channel, Context, Executor
from coalition.core.ids import Party
from coalition.transport.base import Flushable
from coalition.transport.memory import MemoryHub

__all__ = ["run_threads"]


def run_threads(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float,
    wrap: Callable[[Channel], Channel] | None = None,
    executor: Executor | None = None,
) -> tuple[dict[Party, Any], dict[Party, BaseException]]:
    """Run ``roles[p](ctx_p)`` for every party; return (results, errors) by party.

    A party that raises is marked failed on the hub, so peers waiting on it get a
    ``PeerError`` at once instead of waiting out their timeout.
    """
    hub = MemoryHub(roles)
    results: dict[Party, Any] = {}
    errors: dict[Party, BaseException] = {}

    def target(party: Party) -> None:
        try:
            channel: Channel = hub.channel(party)
            if wrap is not None:
                channel = wrap(channel)
            ctx = Context(channel, timeout=timeout, executor=executor)
            results[party] = roles[party](ctx)
            if isinstance(channel, Flushable):
                channel.flush(timeout)
        except BaseException as exc:  # reported to the caller with the party named
            errors[party] = exc
            hub.fail(party, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=target, args=(p,), name=str(p), daemon=True)
               for p in sorted(roles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
