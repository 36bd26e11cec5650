"""Run every party's role in one process, one thread each, on the in-memory hub.

This is the runtime of *standalone* mode (see DESIGN.md, Runtime): the same role code that
runs between node processes over gRPC, with the hub in place of the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import CoalitionError, PeerError
from coalition.core.ids import Party
from coalition.transport.memory import MemoryHub

__all__ = ["PartyFailedError", "run_local"]


class PartyFailedError(CoalitionError):
    """A party's role raised; ``party`` names it and ``error`` (also ``__cause__``) is why."""

    code = "job.party_failed"

    def __init__(self, party: Party, error: BaseException) -> None:
        super().__init__(f"party {party} failed: {type(error).__name__}: {error}",
                         party=str(party))
        self.party = party
        self.error = error


def run_local(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float = 120.0,
    wrap: Callable[[Channel], Channel] | None = None,
    executor: Executor | None = None,
) -> dict[Party, Any]:
    """Run ``roles[p](ctx_p)`` for every party, one thread each; return each result.

    If any party raises, every peer waiting on it fails at once with :class:`PeerError`, and
    the root cause (not the peer errors it provoked) is re-raised as
    :class:`PartyFailedError` once all threads have finished.
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
        except BaseException as exc:  # re-raised below, with the party named
            errors[party] = exc
            hub.fail(party, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=target, args=(p,), name=str(p), daemon=True)
               for p in sorted(roles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        ordered = sorted(errors.items(), key=lambda kv: (isinstance(kv[1], PeerError), kv[0]))
        party, err = ordered[0]
        raise PartyFailedError(party, err) from err
    return results
