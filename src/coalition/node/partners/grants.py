"""Data-use grants: a partner asks to use a dataset for a purpose and some component kinds until
a date; the owner approves or rejects with a reason, or a standing policy approves at once.

Jobs call :func:`check_grant` before touching data: it passes only for an approved, unexpired
grant that names the component kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConflictError, InputError, NotFoundError
from coalition.engine.policy import GrantTerms
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data.datasets import get_dataset, visible_to
from coalition.node.data.tables import Dataset
from coalition.node.db.types import utcnow
from coalition.node.partners.directory import get_partner
from coalition.node.partners.tables import Grant, Partner, Policy

__all__ = [
    "MAX_GRANT_DAYS",
    "GrantStatus",
    "check_grant",
    "create_policy",
    "decide",
    "effective_status",
    "get_grant",
    "grant_terms",
    "grant_view",
    "list_grants",
    "list_policies",
    "remove_policy",
    "request_grant",
    "revoke_grant",
]

MAX_GRANT_DAYS = 366
_KIND = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")


class GrantStatus(StrEnum):
    """Where a grant stands; ``expired`` is derived from ``valid_until``, never stored."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


def _check_kinds(kinds: list[str]) -> list[str]:
    if not kinds:
        raise InputError("name at least one component kind")
    bad = [k for k in kinds if not _KIND.match(k)]
    if bad:
        raise InputError("component kinds are lowercase identifiers", kinds=bad)
    return sorted(set(kinds))


def _check_terms(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        terms = GrantTerms.model_validate(dict(raw or {}))
    except ValidationError as exc:
        raise InputError("invalid grant terms", problems=[
            f"{'.'.join(map(str, e['loc'])) or 'terms'}: {e['msg']}" for e in exc.errors()]) from exc
    return terms.model_dump(mode="json", exclude_defaults=True)


def grant_terms(grant: Grant) -> GrantTerms:
    """The grant's terms (privacy-policy allowances and restrictions)."""
    return GrantTerms.model_validate(grant.terms or {})


def effective_status(grant: Grant, now: dt.datetime | None = None) -> GrantStatus:
    """The stored status, or ``expired`` for an approved grant past its end date."""
    status = GrantStatus(grant.status)
    if status == GrantStatus.APPROVED and grant.valid_until <= (now or utcnow()):
        return GrantStatus.EXPIRED
    return status


def grant_view(db: Session, grant: Grant) -> dict[str, Any]:
    """A grant as plain values (for the API and for the requesting partner)."""
    dataset, partner = db.get(Dataset, grant.dataset_id), db.get(Partner, grant.partner_id)
    return {
        "id": grant.id, "dataset": dataset.name if dataset else None,
        "partner": partner.name if partner else None, "purpose": grant.purpose,
        "component_kinds": grant.component_kinds, "terms": grant.terms or {},
        "valid_until": grant.valid_until,
        "status": str(effective_status(grant)), "reason": grant.reason,
        "decided_by": grant.decided_by, "decided_at": grant.decided_at,
        "created_at": grant.created_at,
    }


def _matching_policy(db: Session, grant: Grant) -> Policy | None:
    candidates = db.scalars(select(Policy).where(Policy.dataset_id == grant.dataset_id)).all()
    days = (grant.valid_until - utcnow()).total_seconds() / 86400
    for policy in candidates:
        if policy.partner_id not in (None, grant.partner_id):
            continue
        if set(grant.component_kinds) <= set(policy.component_kinds) and days <= policy.max_days \
                and grant_terms(grant).within(GrantTerms.model_validate(policy.terms or {})):
            return policy
    return None


def request_grant(db: Session, partner: Partner, dataset_name: str, *, purpose: str,
                  component_kinds: list[str], valid_until: dt.datetime,
                  terms: Mapping[str, Any] | None = None) -> Grant:
    """Record a partner's request; a matching standing policy approves it at once.

    ``terms`` (:class:`~coalition.engine.policy.GrantTerms`) are the allowances the partner
    asks for (e.g. ``allow_guest_dealer``); a standing policy approves only requests whose
    terms it covers.

    A dataset not shared with the partner is reported as missing, so requests cannot probe
    which datasets exist.
    """
    dataset = next((d for d in visible_to(db, partner) if d.name == dataset_name), None)
    if dataset is None:
        raise NotFoundError("no such dataset visible to you", name=dataset_name)
    if not purpose.strip():
        raise InputError("state the purpose of the request")
    now = utcnow()
    if valid_until.tzinfo is None:
        raise InputError("valid_until needs a timezone")
    if not now < valid_until <= now + dt.timedelta(days=MAX_GRANT_DAYS):
        raise InputError(f"valid_until must be in the next {MAX_GRANT_DAYS} days")
    grant = Grant(dataset_id=dataset.id, partner_id=partner.id, purpose=purpose.strip(),
                  component_kinds=_check_kinds(component_kinds), terms=_check_terms(terms),
                  valid_until=valid_until, status=GrantStatus.PENDING.value, reason="", created_at=now)
    db.add(grant)
    db.flush()
    emit(db, Event(EventKind.GRANT_REQUESTED, f"partner:{partner.name}", f"grant:{grant.id}",
                   {"dataset": dataset_name, "kinds": grant.component_kinds,
                    "terms": grant.terms, "valid_until": valid_until.isoformat()}))
    policy = _matching_policy(db, grant)
    if policy is not None:
        ceiling = GrantTerms.model_validate(policy.terms or {})
        grant.terms = grant_terms(grant).under(ceiling).model_dump(mode="json",
                                                                   exclude_defaults=True)
        _set_decision(db, grant, GrantStatus.APPROVED, f"policy:{policy.id}",
                      f"standing policy {policy.id}")
    return grant


def _set_decision(db: Session, grant: Grant, status: GrantStatus, actor: str, reason: str) -> None:
    grant.status, grant.reason = status.value, reason
    grant.decided_by, grant.decided_at = actor, utcnow()
    kind = {GrantStatus.APPROVED: EventKind.GRANT_APPROVED, GrantStatus.REJECTED: EventKind.GRANT_REJECTED,
            GrantStatus.REVOKED: EventKind.GRANT_REVOKED}[status]
    emit(db, Event(kind, actor, f"grant:{grant.id}", {"reason": reason}))


def get_grant(db: Session, grant_id: int) -> Grant:
    """The grant with this id."""
    grant = db.get(Grant, grant_id)
    if grant is None:
        raise NotFoundError("no such grant", id=grant_id)
    return grant


def list_grants(db: Session, status: GrantStatus | None = None) -> list[Grant]:
    """Grants, newest first; ``status=pending`` is the approvals to-do list (待办)."""
    rows = list(db.scalars(select(Grant).order_by(Grant.id.desc())).all())
    return rows if status is None else [g for g in rows if effective_status(g) == status]


def decide(db: Session, actor: str, grant_id: int, approve: bool, reason: str, *,
           terms: Mapping[str, Any] | None = None) -> Grant:
    """Approve or reject a pending grant; a rejection must give a reason. ``terms``, if given,
    replace the requested ones on approval (the owner decides what it allows)."""
    grant = get_grant(db, grant_id)
    if grant.status != GrantStatus.PENDING:
        raise ConflictError("grant is not pending", id=grant_id, status=grant.status)
    if not approve and not reason.strip():
        raise InputError("a rejection needs a reason")
    if approve and grant.valid_until <= utcnow():
        raise ConflictError("the requested period has already ended", id=grant_id)
    if approve and terms is not None:
        grant.terms = _check_terms(terms)
    _set_decision(db, grant, GrantStatus.APPROVED if approve else GrantStatus.REJECTED, actor,
                  reason.strip())
    return grant


def revoke_grant(db: Session, actor: str, grant_id: int, reason: str) -> Grant:
    """Withdraw an approved grant before its end date."""
    grant = get_grant(db, grant_id)
    if effective_status(grant) != GrantStatus.APPROVED:
        raise ConflictError("only an approved, unexpired grant can be revoked", id=grant_id)
    if not reason.strip():
        raise InputError("a revocation needs a reason")
    _set_decision(db, grant, GrantStatus.REVOKED, actor, reason.strip())
    return grant


def check_grant(db: Session, partner_name: str, dataset_name: str, component_kind: str) -> Grant:
    """The approved, unexpired grant letting ``partner_name`` run ``component_kind`` on the
    dataset; raises :class:`AuthError` if there is none."""
    partner, dataset = get_partner(db, partner_name), get_dataset(db, dataset_name)
    rows = db.scalars(select(Grant).where(
        Grant.partner_id == partner.id, Grant.dataset_id == dataset.id,
        Grant.status == GrantStatus.APPROVED.value)).all()
    for grant in rows:
        if effective_status(grant) == GrantStatus.APPROVED and component_kind in grant.component_kinds:
            return grant
    raise AuthError("no approved grant covers this use", partner=partner_name,
                    dataset=dataset_name, component_kind=component_kind)


def create_policy(db: Session, actor: str, dataset_name: str, *, partner_name: str | None,
                  component_kinds: list[str], max_days: int,
                  terms: Mapping[str, Any] | None = None) -> Policy:
    """A standing approval for requests within ``component_kinds``, ``max_days`` and
    ``terms`` (the most a request may ask for; default: no allowances)."""
    if not 0 < max_days <= MAX_GRANT_DAYS:
        raise InputError(f"max_days must be 1..{MAX_GRANT_DAYS}")
    dataset = get_dataset(db, dataset_name)
    partner = get_partner(db, partner_name) if partner_name is not None else None
    policy = Policy(dataset_id=dataset.id, partner_id=partner.id if partner else None,
                    component_kinds=_check_kinds(component_kinds), terms=_check_terms(terms),
                    max_days=max_days, created_by=actor, created_at=utcnow())
    db.add(policy)
    db.flush()
    emit(db, Event(EventKind.POLICY_CREATED, actor, f"policy:{policy.id}",
                   {"dataset": dataset_name, "partner": partner_name,
                    "kinds": policy.component_kinds, "terms": policy.terms,
                    "max_days": max_days}))
    return policy


def list_policies(db: Session) -> list[Policy]:
    """All standing policies."""
    return list(db.scalars(select(Policy).order_by(Policy.id)).all())


def remove_policy(db: Session, actor: str, policy_id: int) -> None:
    """Delete a standing policy (grants it approved stay approved)."""
    policy = db.get(Policy, policy_id)
    if policy is None:
        raise NotFoundError("no such policy", id=policy_id)
    db.delete(policy)
    emit(db, Event(EventKind.POLICY_REMOVED, actor, f"policy:{policy_id}"))
