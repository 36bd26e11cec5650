"""Run every role of a protocol at once and collect the results."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import CoalitionError, ConfigError, PeerError
from coalition.core.ids import Party
from coalition.transport.base import Flushable
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
    transport: Literal["memory", "grpc"] = "memory",
) -> dict[Party, Any]:
    """Run ``roles[p](ctx_p)`` for every party and return each party's result.

    ``transport="memory"``: one thread per party on an in-memory hub. ``transport="grpc"``:
    one ``spawn`` process per party over gRPC with mutual TLS on loopback, with freshly
    generated certificates; role functions, ``wrap`` and ``executor`` must be picklable and
    results come back pickled (see :mod:`coalition.testing.processes`). ``timeout`` is each
    receive's timeout.

    If any party raises, re-raises the first failure as :class:`PartyFailure` naming the
    party, root causes before the peer errors they caused, after every party finished (peers
    of a failed party are told at once and end with a ``PeerError``).
    """
    if transport == "memory":
        results, errors = _run_threads(roles, timeout=timeout, wrap=wrap, executor=executor)
    elif transport == "grpc":
        # Imported here so memory-only test runs never load grpcio.
        from coalition.testing.processes import run_grpc_parties  # noqa: PLC0415

        results, errors = run_grpc_parties(roles, timeout=timeout, wrap=wrap, executor=executor)
    else:
        raise ConfigError("unknown transport", transport=transport)
    if errors:
        # Prefer a root cause over the peer errors it caused in other parties.
        ordered = sorted(errors.items(), key=lambda kv: (isinstance(kv[1], PeerError), kv[0]))
        party, err = ordered[0]
        raise PartyFailure(party, err) from err
    return results


def _run_threads(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float,
    wrap: Callable[[Channel], Channel] | None,
    executor: Executor | None,
) -> tuple[dict[Party, Any], dict[Party, BaseException]]:
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
        except BaseException as exc:
            errors[party] = exc
            hub.fail(party, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=target, args=(p,), name=str(p), daemon=True)
               for p in sorted(roles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
