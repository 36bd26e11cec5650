"""Calling an organisation of a job: this node directly, a partner over the peer endpoint.

The scheduler treats its own node like any participant, so one code path serves both; a call
to this node skips the network but runs the same handler with this node as the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coalition.node.partners import get_partner
from coalition.node.runtime import NodeRuntime

__all__ = ["JobHandler", "call", "register_local"]

JobHandler = Callable[[NodeRuntime, str, dict[str, Any]], dict[str, Any]]
_LOCAL: dict[str, JobHandler] = {}


def register_local(handlers: dict[str, JobHandler]) -> None:
    """Make the job handlers callable on this node without the network."""
    _LOCAL.update(handlers)


def call(rt: NodeRuntime, org: str, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Call ``method`` at organisation ``org`` (typed errors come back typed)."""
    if org == rt.name:
        return _LOCAL[method](rt, rt.name, payload)
    # peer_client imports the peer endpoint, which imports the handlers that import us.
    from coalition.node.peer_client import call_partner  # noqa: PLC0415

    with rt.db.session() as db:
        partner = get_partner(db, org)
        db.expunge(partner)
    return call_partner(rt, partner, method, payload)
