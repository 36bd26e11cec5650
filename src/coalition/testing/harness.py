"""Run every role of a protocol at once and collect the results."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import CoalitionError, PeerError
from coalition.core.ids import Party
from coalition.transport.memory import MemoryHub

__all__ = ["PartyFailure", "run_parties"]


class PartyFailure(CoalitionError):
    """A party's role function raised; ``party`` names it and ``__cause__`` is the error."""

    code = "testing.party_failed"

    def __init__(self, party: Party, error: BaseException) -> None:
        super().__init__(f"party {party} failed: {type(error).__name__}: {error}",
                         party=str(party))
        self.party = party
        self.error = error


def run_parties(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float = 120.0,
    wrap: Callable[[Channel], Channel] | None = None,
    executor: Executor | None = None,
) -> dict[Party, Any]:
    """Run ``roles[p](ctx_p)`` for every party on an in-memory hub, one thread each.

    Returns each party's result. If any party raises, re-raises the first failure (by party
    order) as :class:`PartyFailure` naming the party, after all threads finished (peers of a
    failed party end through their receive timeout).
    """
    hub = MemoryHub(roles)
    results: dict[Party, Any] = {}
    errors: dict[Party, BaseException] = {}

    def target(party: Party) -> None:
        channel: Channel = hub.channel(party)
        if wrap is not None:
            channel = wrap(channel)
        ctx = Context(channel, timeout=timeout, executor=executor)
        try:
            results[party] = roles[party](ctx)
        except BaseException as exc:
            errors[party] = exc
            hub.fail(party, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=target, args=(p,), name=str(p), daemon=True)
               for p in sorted(roles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        # Prefer a root cause over the peer errors it caused in other parties.
        ordered = sorted(errors.items(), key=lambda kv: (isinstance(kv[1], PeerError), kv[0]))
        party, err = ordered[0]
        raise PartyFailure(party, err) from err
    return results
