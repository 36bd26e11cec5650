"""``/grants``, ``/approvals`` and ``/policies``: decide partners' requests to use our data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from coalition.engine.policy import GrantTerms
from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import IdPath, Name, Ok, Strict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.data.tables import Dataset
from coalition.node.ledger import service as ledger
from coalition.node.partners import grants
from coalition.node.partners.grants import GrantStatus
from coalition.node.partners.tables import Partner, Policy
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(tags=["grants"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.GRANTS_READ))]
Decider = Annotated[Principal, Depends(Require(Permission.GRANTS_DECIDE))]
PolicyManager = Annotated[Principal, Depends(Require(Permission.POLICIES_MANAGE))]


class GrantOut(BaseModel):
    """A grant request and its decision."""

    id: int
    dataset: str | None
    partner: str | None
    purpose: str
    component_kinds: list[str]
    terms: dict[str, Any]
    valid_until: dt.datetime
    status: GrantStatus
    reason: str
    decided_by: str | None
    decided_at: dt.datetime | None
    created_at: dt.datetime


class Decision(Strict):
    """An optional note on approval; a reason is required to reject or revoke."""

    reason: str = Field(default="", max_length=2000)
    terms: GrantTerms | None = Field(
        None, description="on approval: the privacy-policy terms granted (default: as asked)")


class PolicyCreate(Strict):
    """Approve automatically: requests for these kinds, up to ``max_days`` long, from
    ``partner`` (or any partner the dataset is shared with, if omitted)."""

    dataset: Name
    partner: Name | None = None
    component_kinds: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")]] = Field(min_length=1)
    max_days: int = Field(ge=1, le=grants.MAX_GRANT_DAYS)
    terms: GrantTerms = Field(default_factory=GrantTerms,
                              description="the most a request may ask for (allowances, "
                                          "restrictions copied into the grants it approves)")


class PolicyOut(BaseModel):
    """A standing approval policy."""

    id: int
    dataset: str | None
    partner: str | None
    component_kinds: list[str]
    terms: dict[str, Any]
    max_days: int
    created_by: str
    created_at: dt.datetime


def _policy_out(db: Session, p: Policy) -> PolicyOut:
    dataset = db.get(Dataset, p.dataset_id)
    partner = db.get(Partner, p.partner_id) if p.partner_id is not None else None
    return PolicyOut(id=p.id, dataset=dataset.name if dataset else None,
                     partner=partner.name if partner else None, component_kinds=p.component_kinds,
                     terms=p.terms or {}, max_days=p.max_days, created_by=p.created_by, created_at=p.created_at)


@router.get("/grants", response_model=list[GrantOut], summary="List grants")
def list_grants(_: Reader, rt: Runtime, status: Annotated[GrantStatus | None, Query()] = None
                ) -> list[GrantOut]:
    """All grants, newest first, optionally filtered by status."""
    with rt.db.session() as db:
        return [GrantOut(**grants.grant_view(db, g)) for g in grants.list_grants(db, status)]


@router.get("/approvals", response_model=list[GrantOut], summary="Pending approvals (待办)")
def approvals(_: Reader, rt: Runtime) -> list[GrantOut]:
    """Requests waiting for a decision."""
    with rt.db.session() as db:
        pending = grants.list_grants(db, GrantStatus.PENDING)
        return [GrantOut(**grants.grant_view(db, g)) for g in pending]


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="Get a grant")
def get_grant(grant_id: IdPath, _: Reader, rt: Runtime) -> GrantOut:
    """One grant."""
    with rt.db.session() as db:
        return GrantOut(**grants.grant_view(db, grants.get_grant(db, grant_id)))


def _recorded(rt: NodeRuntime, view: dict[str, Any]) -> GrantOut:
    """``consent.grant`` in the federation log of the partner the grant is for (the initiator
    of the jobs that will use it): dataset, kinds, terms, status — not the free-text reason."""
    if view["partner"] is not None:
        ledger.record(rt, view["partner"], "consent.grant", {
            "grant": view["id"], "dataset": view["dataset"], "partner": view["partner"],
            "kinds": view["component_kinds"], "terms": view["terms"], "status": view["status"],
            "valid_until": view["valid_until"].isoformat()})
    return GrantOut(**view)


@router.post("/grants/{grant_id}/approve", response_model=GrantOut, summary="Approve")
def approve(grant_id: IdPath, body: Decision, caller: Decider, rt: Runtime) -> GrantOut:
    """Approve a pending request."""
    with rt.db.session() as db:
        terms = None if body.terms is None else body.terms.model_dump(mode="json",
                                                                      exclude_defaults=True)
        grant = grants.decide(db, caller.actor, grant_id, True, body.reason,
                              terms=terms)
        view = grants.grant_view(db, grant)
    return _recorded(rt, view)


@router.post("/grants/{grant_id}/reject", response_model=GrantOut, summary="Reject")
def reject(grant_id: IdPath, body: Decision, caller: Decider, rt: Runtime) -> GrantOut:
    """Reject a pending request with a reason."""
    with rt.db.session() as db:
        grant = grants.decide(db, caller.actor, grant_id, False, body.reason)
        view = grants.grant_view(db, grant)
    return _recorded(rt, view)


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, summary="Revoke")
def revoke(grant_id: IdPath, body: Decision, caller: Decider, rt: Runtime) -> GrantOut:
    """Withdraw an approved grant with a reason."""
    with rt.db.session() as db:
        grant = grants.revoke_grant(db, caller.actor, grant_id, body.reason)
        view = grants.grant_view(db, grant)
    return _recorded(rt, view)


@router.get("/policies", response_model=list[PolicyOut], summary="List standing policies")
def list_policies(_: Reader, rt: Runtime) -> list[PolicyOut]:
    """Every standing approval policy."""
    with rt.db.session() as db:
        return [_policy_out(db, p) for p in grants.list_policies(db)]


@router.post("/policies", response_model=PolicyOut, status_code=201, summary="Add a policy")
def create_policy(body: PolicyCreate, caller: PolicyManager, rt: Runtime) -> PolicyOut:
    """Future matching requests are approved without a human."""
    with rt.db.session() as db:
        policy = grants.create_policy(db, caller.actor, body.dataset, partner_name=body.partner,
                                      component_kinds=list(body.component_kinds),
                                      max_days=body.max_days,
                                      terms=body.terms.model_dump(mode="json",
                                                                  exclude_defaults=True))
        return _policy_out(db, policy)


@router.delete("/policies/{policy_id}", response_model=Ok, summary="Remove a policy")
def remove_policy(policy_id: IdPath, caller: PolicyManager, rt: Runtime) -> Ok:
    """Grants it already approved stay approved."""
    with rt.db.session() as db:
        grants.remove_policy(db, caller.actor, policy_id)
    return Ok()
