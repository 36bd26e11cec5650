"""Talking to partners on a user's behalf: health checks, browsing their shared datasets, and
asking them for grants. Outgoing requests are audited here; the partner audits its side.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coalition.core.errors import CoalitionError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.partners.directory import get_partner
from coalition.node.partners.peer import (
    GET_GRANT,
    HEALTH,
    LIST_DATASETS,
    REQUEST_GRANT,
    GetGrantRequest,
    GrantRequest,
)
from coalition.node.peer.method import Empty
from coalition.node.runtime import NodeRuntime

__all__ = ["ask_grant", "check_health", "remote_datasets", "remote_grant"]


def check_health(rt: NodeRuntime, actor: str, name: str) -> dict[str, Any]:
    """Call the partner's ``Health`` over mutual TLS; record and audit the outcome.

    A partner on another crypto suite than this node's (``crypto_suite``) fails the check: the
    federation's suite is one setting on every node, and this node's policy would refuse every
    suite-bearing task the partner proposes (``policy.crypto_suite``).
    """
    result: dict[str, Any]
    ours = rt.settings.crypto_suite.value
    try:
        reply = rt.peers.call(name, HEALTH, Empty())
        mismatch = reply.crypto_suite != ours
        result = {"ok": not mismatch, "partner": name, "remote_name": reply.name,
                  "seen_as": reply.you, "remote_version": reply.version,
                  "remote_suite": reply.crypto_suite,
                  "error": (f"the partner runs the {reply.crypto_suite} crypto suite, this "
                            f"federation {ours}") if mismatch else None}
    except CoalitionError as exc:
        result = {"ok": False, "partner": name, "remote_name": None, "seen_as": None,
                  "remote_version": None, "remote_suite": None, "error": exc.message}
    with rt.db.session() as db:
        row = get_partner(db, name)
        row.last_health_at, row.last_health_ok = utcnow(), result["ok"]
        emit(db, Event(EventKind.PARTNER_HEALTH_CHECKED, actor, f"partner:{name}",
                       {"ok": result["ok"], "error": result["error"]}))
    return result


def remote_datasets(rt: NodeRuntime, name: str) -> list[dict[str, Any]]:
    """Datasets the partner has shared with this node (name, schema, row count)."""
    reply = rt.peers.call(name, LIST_DATASETS, Empty())
    return [d.model_dump(mode="json") for d in reply.datasets]


def ask_grant(rt: NodeRuntime, actor: str, name: str, *, dataset: str, purpose: str,
              component_kinds: list[str], valid_until: dt.datetime,
              terms: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask the partner for a grant on one of its datasets (with privacy-policy ``terms``,
    e.g. ``allow_guest_dealer``); returns the partner's grant view."""
    reply = rt.peers.call(name, REQUEST_GRANT, GrantRequest(
        dataset=dataset, purpose=purpose, component_kinds=component_kinds,
        valid_until=valid_until, terms=terms or {}))
    with rt.db.session() as db:
        emit(db, Event(EventKind.GRANT_ASKED, actor, f"partner:{name}",
                       {"dataset": dataset, "grant": reply.id, "status": reply.status,
                        "kinds": component_kinds}))
    return reply.model_dump(mode="json")


def remote_grant(rt: NodeRuntime, name: str, grant_id: int) -> dict[str, Any]:
    """The current state of a grant this node asked ``name`` for."""
    return rt.peers.call(name, GET_GRANT, GetGrantRequest(id=grant_id)).model_dump(mode="json")
