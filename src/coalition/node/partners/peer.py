"""What any registered partner may ask this node: health, shared datasets, grants.

Leakage: a partner learns this node's name and version, the name/schema/row count of datasets
shared with it, and the state of its own grants; nothing else (no locations, values,
statistics, other partners or users). The job, model and serving methods
(``jobs.peer_methods``, ``models.peer_methods``, ``serving.peer_methods``) state their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import coalition
from coalition.core.errors import NotFoundError
from coalition.node.data import datasets
from coalition.node.db.types import utcnow
from coalition.node.limits import LimitError
from coalition.node.partners import grants
from coalition.node.partners.directory import get_partner
from coalition.node.partners.tables import Grant, Partner
from coalition.node.peer.method import Empty, Name, PeerMethod, PeerRequest, PeerResponse
from coalition.node.peer.registry import PeerRegistry
from coalition.node.runtime import NodeRuntime

__all__ = ["GET_GRANT", "HEALTH", "LIST_DATASETS", "REQUEST_GRANT", "GetGrantRequest",
           "GrantView", "GrantRequest", "Health", "SharedDataset", "SharedDatasets",
           "partner_grant_view", "register"]


class Health(PeerResponse):
    """Liveness plus who each side is, and the federation crypto suite this node runs."""

    name: str
    you: str  # how this node sees the caller
    version: str
    time: dt.datetime
    crypto_suite: str = "standard"  # absent from nodes older than the setting: standard


class SharedDataset(PeerResponse):
    """Exactly what a partner may learn about a dataset shared with it."""

    name: str
    columns: list[Any]
    row_count: int | None = None
    id_column: str | None = None
    label_column: str | None = None


class SharedDatasets(PeerResponse):
    """The datasets shared with the caller."""

    datasets: list[SharedDataset]


class GrantRequest(PeerRequest):
    """Ask to use a shared dataset for ``purpose`` with components of ``component_kinds``."""

    dataset: Name
    purpose: str
    component_kinds: list[str]
    valid_until: dt.datetime
    terms: dict[str, Any] | None = None  # privacy-policy terms, e.g. allow_guest_dealer


class GetGrantRequest(PeerRequest):
    """One of the caller's grants, by id."""

    id: int


class GrantView(PeerResponse):
    """A grant as its requesting partner may see it (no internal user names)."""

    id: int
    dataset: str | None
    purpose: str
    component_kinds: list[str]
    terms: dict[str, Any]
    valid_until: dt.datetime
    status: str
    reason: str | None = None
    decided_at: dt.datetime | None = None
    created_at: dt.datetime


HEALTH = PeerMethod("Health", Empty, Health)
LIST_DATASETS = PeerMethod("ListDatasets", Empty, SharedDatasets)
REQUEST_GRANT = PeerMethod("RequestGrant", GrantRequest, GrantView)
GET_GRANT = PeerMethod("GetGrant", GetGrantRequest, GrantView)


def partner_grant_view(db: Session, grant: Grant) -> GrantView:
    """A grant as its requesting partner may see it."""
    return GrantView.model_validate(grants.grant_view(db, grant), strict=False)


def health(rt: NodeRuntime, caller: str, request: Empty) -> Health:
    """Liveness plus who each side is: the partner learns how this node sees it."""
    return Health(name=rt.name, you=caller, version=coalition.__version__, time=utcnow(),
                  crypto_suite=rt.settings.crypto_suite.value)


def list_datasets(rt: NodeRuntime, caller: str, request: Empty) -> SharedDatasets:
    """Datasets shared with the caller: name, schema, row count."""
    with rt.db.session() as db:
        shared = datasets.visible_to(db, get_partner(db, caller))
        return SharedDatasets(datasets=[SharedDataset.model_validate(datasets.public_view(d),
                                                                     strict=False)
                                        for d in shared])


def request_grant(rt: NodeRuntime, caller: str, request: GrantRequest) -> GrantView:
    """Ask to use a shared dataset; returns the grant (pending, or approved by policy)."""
    with rt.db.session() as db:
        partner = get_partner(db, caller)
        _check_pending_grants(rt, db, partner)
        grant = grants.request_grant(db, partner, request.dataset, purpose=request.purpose,
                                     component_kinds=list(request.component_kinds),
                                     valid_until=request.valid_until,
                                     terms=dict(request.terms or {}))
        return partner_grant_view(db, grant)


def _check_pending_grants(rt: NodeRuntime, db: Session, partner: Partner) -> None:
    """At most ``grant_max_pending_per_partner`` requests of one partner wait for a person."""
    cap = rt.settings.grant_max_pending_per_partner
    pending = db.scalar(sa.select(sa.func.count()).select_from(Grant).where(
        Grant.partner_id == partner.id, Grant.status == grants.GrantStatus.PENDING.value))
    if int(pending or 0) >= cap:
        raise LimitError("too many of your grant requests are pending here", max_pending=cap)


def get_grant(rt: NodeRuntime, caller: str, request: GetGrantRequest) -> GrantView:
    """One of the caller's own grants (same answer for another partner's and for none)."""
    with rt.db.session() as db:
        grant = db.get(Grant, request.id)
        if grant is None or grant.partner_id != get_partner(db, caller).id:
            raise NotFoundError("no such grant of yours", id=request.id)
        return partner_grant_view(db, grant)


def register(registry: PeerRegistry) -> None:
    """Answer the partner methods (composition)."""
    registry.register(HEALTH, health)
    registry.register(LIST_DATASETS, list_datasets)
    registry.register(REQUEST_GRANT, request_grant)
    registry.register(GET_GRANT, get_grant)
