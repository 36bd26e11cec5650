"""What a partner may ask this node over the peer endpoint, one function per method.

Each handler receives the calling :class:`Partner` (already authenticated by certificate) and a
plain JSON payload, and returns plain JSON. Leakage: a partner learns this node's name and
version, the name/schema/row count of datasets shared with it, and the state of its own grants;
nothing else (no locations, values, statistics, other partners or users). The job methods
(:mod:`coalition.node.jobs.handlers`) state their own leakage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

import coalition
from coalition.core.errors import InputError, NotFoundError
from coalition.node import datasets, grants
from coalition.node.db.models import Grant, Partner
from coalition.node.db.types import utcnow
from coalition.node.jobs import JOB_HANDLERS
from coalition.node.jobs.links import JobHandler
from coalition.node.limits import LimitError
from coalition.node.models.peer import MODEL_HANDLERS
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.host import SERVING_HANDLERS

__all__ = ["HANDLERS", "UNMETERED", "partner_grant_view"]

Handler = Callable[[NodeRuntime, Partner, dict[str, Any]], dict[str, Any]]


def _field(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind):
        raise InputError(f"field {name!r} must be a {kind.__name__}")
    return value


def partner_grant_view(db: Any, grant: Grant) -> dict[str, Any]:
    """A grant as its requesting partner may see it (no internal user names)."""
    view = grants.grant_view(db, grant)
    return {k: view[k] for k in ("id", "dataset", "purpose", "component_kinds", "terms",
                                 "valid_until", "status", "reason", "decided_at", "created_at")}


def health(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Liveness plus who each side is: the partner learns how this node sees it."""
    return {"name": rt.name, "you": partner.name, "version": coalition.__version__,
            "time": utcnow().isoformat()}


def list_datasets(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Datasets shared with the caller: name, schema, row count."""
    with rt.db.session() as db:
        return {"datasets": [datasets.public_view(d) for d in datasets.visible_to(db, partner)]}


def request_grant(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Ask to use a shared dataset; returns the grant (pending, or approved by policy)."""
    try:
        until = dt.datetime.fromisoformat(_field(payload, "valid_until", str))
    except ValueError as exc:
        raise InputError("valid_until must be an ISO 8601 timestamp") from exc
    kinds = _field(payload, "component_kinds", list)
    if not all(isinstance(k, str) for k in kinds):
        raise InputError("component_kinds must be strings")
    terms = payload.get("terms") or {}
    if not isinstance(terms, dict):
        raise InputError("terms must be an object")
    with rt.db.session() as db:
        _check_pending_grants(rt, db, partner)
        grant = grants.request_grant(db, partner, _field(payload, "dataset", str),
                                     purpose=_field(payload, "purpose", str),
                                     component_kinds=kinds, valid_until=until, terms=terms)
        return partner_grant_view(db, grant)


def _check_pending_grants(rt: NodeRuntime, db: Any, partner: Partner) -> None:
    """At most ``grant_max_pending_per_partner`` requests of one partner wait for a person."""
    cap = rt.settings.grant_max_pending_per_partner
    pending = db.scalar(sa.select(sa.func.count()).select_from(Grant).where(
        Grant.partner_id == partner.id, Grant.status == grants.GrantStatus.PENDING.value))
    if int(pending or 0) >= cap:
        raise LimitError("too many of your grant requests are pending here", max_pending=cap)


def get_grant(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """One of the caller's own grants."""
    grant_id = _field(payload, "id", int)
    with rt.db.session() as db:
        grant = db.get(Grant, grant_id)
        if grant is None or grant.partner_id != partner.id:
            raise NotFoundError("no such grant of yours", id=grant_id)
        return partner_grant_view(db, grant)


def _as_peer(fn: JobHandler) -> Handler:
    """Job handlers take the calling organisation's name (they also serve local calls)."""
    def handler(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
        return fn(rt, partner.name, payload)

    return handler


UNMETERED = frozenset(SERVING_HANDLERS)
"""Methods outside the per-partner call rate: online serving, which has its own quotas."""

HANDLERS: dict[str, Handler] = {
    "Health": health,
    "ListDatasets": list_datasets,
    "RequestGrant": request_grant,
    "GetGrant": get_grant,
    **{name: _as_peer(fn) for name, fn in JOB_HANDLERS.items()},  # see coalition.node.jobs
    **MODEL_HANDLERS,  # see coalition.node.models.peer
    **SERVING_HANDLERS,  # see coalition.node.serving.host
}
