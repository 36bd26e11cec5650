"""Four-eyes changes to auditor accounts: one administrator asks, another person approves.

Actions: ``create`` (a new auditor), ``role`` (an account to or from the auditor role) and
``password`` (reset an auditor's password). The requester must be an administrator; the approver
must hold ``users.approve_auditor`` (administrators and auditors) and must not be the requester.
Nothing changes until approval; every step is audited. A new password is hashed (Argon2) when
the request is made and never stored or logged in clear; it is not shown to the approver.

What this does not stop (docs/security.md): an administrator who first creates a second
administrator account for themselves can approve with it; the audit trail then shows both
steps, and auditors see every request and decision.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.auth import users
from coalition.node.auth.permissions import UserRole
from coalition.node.auth.principal import Principal
from coalition.node.auth.tables import AuditorRequest, User
from coalition.node.db.types import utcnow
from coalition.node.runtime import NodeRuntime

__all__ = ["ACTIONS", "approve", "get_request", "list_requests", "reject", "request_change"]

ACTIONS = ("create", "role", "password")
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def list_requests(db: Session, status: str | None = None) -> list[AuditorRequest]:
    """Requests, newest first, optionally of one status."""
    query = select(AuditorRequest)
    if status is not None:
        query = query.where(AuditorRequest.status == status)
    return list(db.scalars(query.order_by(AuditorRequest.id.desc())).all())


def get_request(db: Session, request_id: int) -> AuditorRequest:
    """One request."""
    row = db.get(AuditorRequest, request_id)
    if row is None:
        raise NotFoundError("no such auditor request", request_id=request_id)
    return row


def request_change(rt: NodeRuntime, db: Session, requester: Principal, *, action: str,
                   username: str, role: UserRole | None = None,
                   password: str | None = None) -> AuditorRequest:
    """Record a pending change; validates it now so approval cannot fail on a bad request."""
    if requester.role != UserRole.ADMIN:
        raise AuthError("only administrators request changes to auditor accounts")
    existing = db.scalars(select(User).where(User.username == username)).first()
    if action == "create":
        if existing is not None:
            raise ConflictError("username already taken", username=username)
        if password is None:
            raise InputError("a new auditor needs a password")
        role = UserRole.AUDITOR
    elif action == "role":
        if existing is None:
            raise NotFoundError("no such user", username=username)
        if role is None or role == existing.role or UserRole.AUDITOR not in (role, existing.role):
            raise InputError("a role request moves an account to or from the auditor role")
        if role == UserRole.AUDITOR and existing.kind != users.HUMAN:
            raise ConflictError("auditor accounts are people: API users cannot be auditors")
        if existing.id == requester.user_id:
            raise ConflictError("administrators cannot change their own role")
        password = None
    elif action == "password":
        if existing is None or existing.role != UserRole.AUDITOR:
            raise InputError("a password request resets an auditor's password")
        if password is None:
            raise InputError("a password request needs the new password")
        role = None
    else:
        raise InputError("unknown action", allowed=list(ACTIONS))
    pending = db.scalars(select(AuditorRequest.id).where(
        AuditorRequest.username == username, AuditorRequest.status == PENDING)).first()
    if pending is not None:
        raise ConflictError("a request for this account is already pending", request_id=pending)
    row = AuditorRequest(action=action, username=username, role=str(role) if role else None,
                         kind=users.HUMAN if action == "create" else None,
                         password_hash=rt.passwords.hash(password) if password else None,
                         requested_by=requester.actor, status=PENDING, created_at=utcnow())
    db.add(row)
    db.flush()
    emit(db, Event(EventKind.AUDITOR_CHANGE_REQUESTED, requester.actor, f"user:{username}",
                   {"request_id": row.id, "action": action, "role": row.role}))
    return row


def _decidable(db: Session, request_id: int) -> AuditorRequest:
    row = get_request(db, request_id)
    if row.status != PENDING:
        raise ConflictError("request already decided", request_id=request_id, status=row.status)
    return row


def approve(db: Session, approver: Principal, request_id: int) -> AuditorRequest:
    """Apply a pending request; the requester can never approve its own request."""
    row = _decidable(db, request_id)
    if approver.actor == row.requested_by:
        raise AuthError("a second administrator or an auditor must approve this request")
    if approver.role not in (UserRole.ADMIN, UserRole.AUDITOR):
        raise AuthError("only administrators and auditors approve auditor requests")
    if row.action == "create":
        if db.scalars(select(User.id).where(User.username == row.username)).first() is not None:
            raise ConflictError("username already taken", username=row.username)
        user = User(username=row.username, kind=users.HUMAN, role=str(UserRole.AUDITOR),
                    disabled=False, failed_logins=0, password_hash=row.password_hash,
                    created_at=utcnow())
        db.add(user)
        db.flush()
        emit(db, Event(EventKind.USER_CREATED, approver.actor, f"user:{row.username}",
                       {"role": str(UserRole.AUDITOR), "kind": users.HUMAN,
                        "request_id": row.id, "requested_by": row.requested_by}))
    elif row.action == "role":
        user = users.get_user(db, row.username)
        changes = {"role": {"from": user.role, "to": row.role}, "request_id": row.id,
                   "requested_by": row.requested_by}
        user.role = str(row.role)  # permissions are resolved per request: effective at once
        emit(db, Event(EventKind.USER_UPDATED, approver.actor, f"user:{row.username}", changes))
    else:
        user = users.get_user(db, row.username)
        user.password_hash = row.password_hash
        user.failed_logins, user.locked_until = 0, None
        users.revoke_user_sessions(db, approver.actor, row.username)
        emit(db, Event(EventKind.PASSWORD_CHANGED, approver.actor, f"user:{row.username}",
                       {"request_id": row.id, "requested_by": row.requested_by}))
    row.status, row.decided_by, row.decided_at = APPROVED, approver.actor, utcnow()
    row.password_hash = None  # applied; the request keeps no credential
    emit(db, Event(EventKind.AUDITOR_CHANGE_APPROVED, approver.actor, f"user:{row.username}",
                   {"request_id": row.id, "action": row.action,
                    "requested_by": row.requested_by}))
    return row


def reject(db: Session, decider: Principal, request_id: int) -> AuditorRequest:
    """Refuse a pending request (its requester may withdraw it this way)."""
    row = _decidable(db, request_id)
    row.status, row.decided_by, row.decided_at = REJECTED, decider.actor, utcnow()
    row.password_hash = None
    emit(db, Event(EventKind.AUDITOR_CHANGE_REJECTED, decider.actor, f"user:{row.username}",
                   {"request_id": row.id, "action": row.action}))
    return row
