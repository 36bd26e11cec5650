"""Run every role of a protocol at once and collect the results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import ConfigError
from coalition.core.ids import Party
from coalition.engine.local import PartyFailedError, raise_root_cause
from coalition.transport.threads import run_threads

__all__ = ["PartyFailure", "run_parties"]


# Tests catch the same error standalone mode raises.
PartyFailure = PartyFailedError


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
        results, errors = run_threads(roles, timeout=timeout, wrap=wrap, executor=executor)
    elif transport == "grpc":
        # Imported here so memory-only test runs never load grpcio.
        from coalition.testing.processes import run_grpc_parties  # noqa: PLC0415

        results, errors = run_grpc_parties(roles, timeout=timeout, wrap=wrap, executor=executor)
    else:
        raise ConfigError("unknown transport", transport=transport)
    raise_root_cause(errors)
    return results
