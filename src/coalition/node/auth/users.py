"""Users, logins and API keys: the identity side of the node as plain functions over a session.

API users (kind ``api``) have no password; they act only through API keys. Every change emits
one audit event.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.auth.duties import check_create, check_password_reset, check_role_change
from coalition.node.auth.permissions import ROLE_PERMISSIONS, Permission, UserRole
from coalition.node.auth.principal import Principal
from coalition.node.auth.tables import ApiKey, User
from coalition.node.auth.tokens import issue_api_key, issue_session, revoke_sessions
from coalition.node.db.types import utcnow
from coalition.node.errors import RateLimited, Unauthenticated
from coalition.node.runtime import NodeRuntime

__all__ = [
    "change_password",
    "create_api_key",
    "create_user",
    "get_user",
    "list_api_keys",
    "list_users",
    "login",
    "logout",
    "revoke_api_key",
    "revoke_user_sessions",
    "update_user",
]

HUMAN, API = "human", "api"


def get_user(db: Session, username: str) -> User:
    """The user called ``username``."""
    user = db.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFoundError("no such user", username=username)
    return user


def list_users(db: Session) -> list[User]:
    """All users, by name."""
    return list(db.scalars(select(User).order_by(User.username)).all())


def create_user(rt: NodeRuntime, db: Session, actor: str, *, username: str, role: UserRole,
                kind: str, password: str | None, bootstrap: bool = False) -> User:
    """Add a person (with ``password``) or an API user (kind ``api``, no password).

    Auditors need a second approval (:mod:`coalition.node.auth.auditor_requests`), except with
    ``bootstrap`` (``node init`` only: whoever runs it holds the node's files anyway).
    """
    if not bootstrap:
        check_create(role, kind)
    if db.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise ConflictError("username already taken", username=username)
    if kind == HUMAN and password is None:
        raise InputError("a human user needs a password")
    if kind == API and password is not None:
        raise InputError("API users authenticate with API keys, not passwords")
    user = User(username=username, kind=kind, role=str(role), disabled=False, failed_logins=0,
                password_hash=rt.passwords.hash(password) if password else None, created_at=utcnow())
    db.add(user)
    db.flush()
    emit(db, Event(EventKind.USER_CREATED, actor, f"user:{username}", {"role": str(role), "kind": kind}))
    return user


def update_user(db: Session, actor: Principal, username: str, role: UserRole | None,
                disabled: bool | None) -> User:
    """Change a user's role or disable/enable them; disabling revokes their sessions."""
    user = get_user(db, username)
    check_role_change(user.role, role)
    if user.id == actor.user_id and (disabled or (role is not None and role != UserRole.ADMIN)):
        raise ConflictError("administrators cannot demote or disable themselves")
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = {"from": user.role, "to": str(role)}
        user.role = str(role)
    if disabled is not None and disabled != user.disabled:
        changes["disabled"] = disabled
        user.disabled = disabled
        if disabled:
            revoke_sessions(db, user.id)
    if changes:
        emit(db, Event(EventKind.USER_UPDATED, actor.actor, f"user:{username}", changes))
    return user


def change_password(rt: NodeRuntime, db: Session, actor: str, username: str, new: str) -> None:
    """Set a human user's password and end their other sessions."""
    user = get_user(db, username)
    if user.kind != HUMAN:
        raise InputError("API users have no password")
    check_password_reset(user.role, own=actor == f"user:{username}")
    user.password_hash = rt.passwords.hash(new)
    user.failed_logins, user.locked_until = 0, None
    revoke_sessions(db, user.id)
    emit(db, Event(EventKind.PASSWORD_CHANGED, actor, f"user:{username}"))


def revoke_user_sessions(db: Session, actor: str, username: str) -> int:
    """Revoke every live session of ``username``."""
    user = get_user(db, username)
    count = revoke_sessions(db, user.id)
    emit(db, Event(EventKind.SESSIONS_REVOKED, actor, f"user:{username}", {"count": count}))
    return count


def login(rt: NodeRuntime, username: str, password: str, client: str) -> tuple[str, dt.datetime, User]:
    """Check a password, throttled per client address and per (username, client).

    Contract: the answer to a failed or throttled attempt does not depend on whether
    ``username`` exists, is disabled or is an API user — same status, body and headers, one
    Argon2 verification (against a dummy hash for unknown users), no per-user database write.
    There is no hard lock: an attacker guessing at ``admin`` from one client slows down only
    that client (see :class:`~coalition.node.auth.ratelimit.Backoff`). Failures are audited in
    aggregate: the first failure of a window at once, then one summary row per window.
    """
    failure: AuthError
    key = (username, client)
    with rt.db.session() as db:
        _audit_failures(db, rt)
        wait = max(rt.login_limiter.hit(f"addr:{client}"), rt.login_backoff.attempt(key))
        if wait > 0:
            failure = RateLimited("too many login attempts", retry_after_s=math.ceil(wait))
            _count_failure(db, rt, username, client, throttled=True)
        else:
            user = db.scalars(select(User).where(User.username == username)).first()
            usable = user is not None and user.kind == HUMAN and not user.disabled
            stored = user.password_hash if user is not None and usable else None
            if rt.passwords.verify(stored, password) and user is not None:
                rt.login_backoff.succeeded(key)
                user.failed_logins, user.locked_until = 0, None
                if rt.passwords.needs_rehash(user.password_hash or ""):
                    user.password_hash = rt.passwords.hash(password)
                token, expires = issue_session(db, user, rt.settings.session_ttl_s)
                emit(db, Event(EventKind.LOGIN_SUCCEEDED, f"user:{username}", f"user:{username}",
                               {"client": client}))
                return token, expires, user
            failure = Unauthenticated("wrong username or password")
            _count_failure(db, rt, username, client, throttled=False)
    raise failure


def _count_failure(db: Session, rt: NodeRuntime, username: str, client: str, *,
                   throttled: bool) -> None:
    """Tally a failure; audit it at once only when it opens a window (bounded audit volume)."""
    if rt.login_failures.add(username, client, throttled=throttled):
        emit(db, Event(EventKind.LOGIN_FAILED, "anonymous", f"user:{username}",
                       {"client": client, "failures": 1, "throttled": throttled,
                        "window": "opened", "window_s": rt.settings.login_audit_window_s}))


def _audit_failures(db: Session, rt: NodeRuntime) -> None:
    """Audit the last window's summary once it has closed."""
    summary = rt.login_failures.due()
    if summary is not None:
        emit(db, Event(EventKind.LOGIN_FAILED, "anonymous", "auth:login",
                       {**summary, "window": "closed"}))


def logout(db: Session, principal: Principal) -> None:
    """End the caller's session (API keys are revoked separately)."""
    if principal.session_id is None:
        raise InputError("only session tokens can log out; revoke API keys instead")
    revoke_sessions(db, principal.user_id, principal.session_id)
    emit(db, Event(EventKind.LOGOUT, principal.actor, principal.actor))


def create_api_key(db: Session, actor: str, username: str, scopes: frozenset[Permission],
                   expires_at: dt.datetime | None) -> tuple[ApiKey, str]:
    """Issue a key for an API user; scopes must be within the user's role."""
    user = get_user(db, username)
    if user.kind != API:
        raise InputError("API keys are issued to API users (kind 'api')")
    extra = scopes - ROLE_PERMISSIONS[UserRole(user.role)]
    if extra:
        raise InputError("scopes exceed the user's role", scopes=sorted(extra))
    if not scopes:
        raise InputError("an API key needs at least one scope")
    if expires_at is not None and expires_at <= utcnow():
        raise InputError("expiry must be in the future")
    row, key = issue_api_key(db, user, scopes, expires_at)
    emit(db, Event(EventKind.API_KEY_CREATED, actor, f"api_key:{row.key_id}",
                   {"user": username, "scopes": row.scopes}))
    return row, key


def list_api_keys(db: Session) -> list[tuple[ApiKey, str]]:
    """All keys with their user names (never the secrets)."""
    rows = db.execute(select(ApiKey, User.username).join(User).order_by(ApiKey.id)).all()
    return [(key, name) for key, name in rows]


def revoke_api_key(db: Session, actor: str, key_id: str) -> ApiKey:
    """Revoke a key at once; revoking twice is a conflict."""
    row = db.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if row is None:
        raise NotFoundError("no such API key", key_id=key_id)
    if row.revoked_at is not None:
        raise ConflictError("API key already revoked", key_id=key_id)
    row.revoked_at = utcnow()
    emit(db, Event(EventKind.API_KEY_REVOKED, actor, f"api_key:{key_id}"))
    return row
