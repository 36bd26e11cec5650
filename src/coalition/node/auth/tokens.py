"""Bearer credentials: session tokens (``cs_...``) and API keys (``ck_<key id>_<secret>``).

Both are 256-bit random secrets, so a single SHA-256 is a sufficient stored hash (slow hashing
only matters for low-entropy passwords); the plaintext is returned once and never stored.
Comparison uses :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalition.node.auth.permissions import ROLE_PERMISSIONS, Permission, UserRole
from coalition.node.auth.principal import Principal
from coalition.node.auth.tables import ApiKey, User
from coalition.node.auth.tables import Session as LoginSession
from coalition.node.db.types import utcnow
from coalition.node.errors import Unauthenticated

__all__ = ["authenticate", "issue_api_key", "issue_session", "revoke_sessions"]

_SESSION_PREFIX = "cs_"
_KEY_PREFIX = "ck_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_session(db: Session, user: User, ttl_s: int) -> tuple[str, dt.datetime]:
    """Start a session for ``user``; return the bearer token (shown once) and its expiry."""
    token = _SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl_s)
    db.add(LoginSession(token_hash=_digest(token), user_id=user.id, created_at=now, expires_at=expires))
    db.flush()
    return token, expires


def revoke_sessions(db: Session, user_id: int, session_id: int | None = None) -> int:
    """Revoke one session or all of a user's live sessions; return how many."""
    query = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
    )
    if session_id is not None:
        query = query.where(LoginSession.id == session_id)
    result = db.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def issue_api_key(db: Session, user: User, scopes: frozenset[Permission],
                  expires_at: dt.datetime | None) -> tuple[ApiKey, str]:
    """Create an API key for ``user``; return the row and the key (shown once)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(key_id=key_id, secret_hash=_digest(secret), user_id=user.id,
                 scopes=sorted(str(s) for s in scopes), created_at=utcnow(), expires_at=expires_at)
    db.add(row)
    db.flush()
    return row, f"{_KEY_PREFIX}{key_id}_{secret}"


def _live_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.disabled:
        raise Unauthenticated("credentials belong to a disabled or deleted user")
    return user


def _from_session(db: Session, token: str) -> Principal:
    row = db.scalars(select(LoginSession).where(LoginSession.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("session is unknown, expired or revoked")
    user = _live_user(db, row.user_id)
    role = UserRole(user.role)
    return Principal(user.id, user.username, role, ROLE_PERMISSIONS[role], session_id=row.id)


def _from_api_key(db: Session, key: str) -> Principal:
    key_id, sep, secret = key.removeprefix(_KEY_PREFIX).partition("_")
    row = db.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first() if sep else None
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise Unauthenticated("API key is unknown")
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= utcnow()):
        raise Unauthenticated("API key is expired or revoked")
    user = _live_user(db, row.user_id)
    role = UserRole(user.role)
    scopes = frozenset(Permission(s) for s in row.scopes) & ROLE_PERMISSIONS[role]
    return Principal(user.id, user.username, role, scopes, key_id=row.key_id)


def authenticate(db: Session, bearer: str) -> Principal:
    """Resolve a bearer credential to a :class:`Principal` or raise :class:`Unauthenticated`."""
    if bearer.startswith(_SESSION_PREFIX):
        return _from_session(db, bearer)
    if bearer.startswith(_KEY_PREFIX):
        return _from_api_key(db, bearer)
    raise Unauthenticated("unrecognised credential")
