"""Standalone mode: every party's role in one process on the in-memory hub.

The same role code that runs between node processes over gRPC (DESIGN.md, Runtime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import CoalitionError, PeerError
from coalition.core.ids import Party
from coalition.transport.threads import run_threads

__all__ = ["PartyFailedError", "raise_root_cause", "run_local"]


class PartyFailedError(CoalitionError):
    """A party's role raised; ``party`` names it and ``error`` (also ``__cause__``) is why."""

    code = "job.party_failed"

    def __init__(self, party: Party, error: BaseException) -> None:
        super().__init__(f"party {party} failed: {type(error).__name__}: {error}",
                         party=str(party))
        self.party = party
        self.error = error


def raise_root_cause(errors: Mapping[Party, BaseException]) -> None:
    """Raise :class:`PartyFailedError` for the root cause among ``errors``, if any.

    Root causes come before the peer errors they provoked in other parties.
    """
    if not errors:
        return
    ordered = sorted(errors.items(), key=lambda kv: (isinstance(kv[1], PeerError), kv[0]))
    party, err = ordered[0]
    raise PartyFailedError(party, err) from err


def run_local(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float = 120.0,
    wrap: Callable[[Channel], Channel] | None = None,
    executor: Executor | None = None,
) -> dict[Party, Any]:
    """Run ``roles[p](ctx_p)`` for every party, one thread each; return each result."""
    results, errors = run_threads(roles, timeout=timeout, wrap=wrap, executor=executor)
    raise_root_cause(errors)
    return results
