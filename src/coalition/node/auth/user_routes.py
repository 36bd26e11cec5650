"""``/users`` and ``/api-keys``: people, API users and their keys (administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import Name, NamePath, Ok, Strict
from coalition.node.auth import auditor_requests, users
from coalition.node.auth.permissions import Permission, UserRole
from coalition.node.auth.principal import Principal
from coalition.node.auth.tables import ApiKey, AuditorRequest, User
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(tags=["users"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.USERS_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.USERS_MANAGE))]
KeyManager = Annotated[Principal, Depends(Require(Permission.API_KEYS_MANAGE))]
Approver = Annotated[Principal, Depends(Require(Permission.AUDITORS_APPROVE))]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserOut(BaseModel):
    """A user (never the password hash)."""

    username: str
    kind: str
    role: str
    disabled: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        """From the ORM row."""
        return cls(username=user.username, kind=user.kind, role=user.role, disabled=user.disabled,
                   locked_until=user.locked_until, created_at=user.created_at)


class UserCreate(Strict):
    """A person needs a password; an API user (kind ``api``) must not have one."""

    username: Name
    role: UserRole
    kind: Literal["human", "api"] = "human"
    password: str | None = Field(default=None, min_length=12, max_length=1024)

    @model_validator(mode="after")
    def _password_matches_kind(self) -> UserCreate:
        if (self.kind == "human") != (self.password is not None):
            raise ValueError("human users need a password; API users must not have one")
        return self


class UserUpdate(Strict):
    """Change the role and/or disable the user."""

    role: UserRole | None = None
    disabled: bool | None = None


class PasswordReset(Strict):
    """A new password set by an administrator."""

    password: str = Field(min_length=12, max_length=1024)


class Revoked(BaseModel):
    """How many sessions were revoked."""

    revoked: int


class ApiKeyCreate(Strict):
    """Scopes must lie within the API user's role."""

    username: Name
    scopes: list[Permission] = Field(min_length=1)
    expires_at: AwareDatetime | None = None


class ApiKeyOut(BaseModel):
    """An API key's metadata (the secret is never shown again)."""

    key_id: str
    username: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, key: ApiKey, username: str) -> ApiKeyOut:
        """From the ORM row."""
        return cls(key_id=key.key_id, username=username, scopes=key.scopes,
                   created_at=key.created_at, expires_at=key.expires_at, revoked_at=key.revoked_at)


class ApiKeyCreated(ApiKeyOut):
    """A new key: ``key`` is shown exactly once."""

    key: str


class AuditorRequestCreate(Strict):
    """A change to an auditor account: ``create`` (with ``password``), ``role`` (to or from
    ``auditor``) or ``password`` (reset an auditor's password)."""

    action: Literal["create", "role", "password"]
    username: Name
    role: UserRole | None = None
    password: str | None = Field(default=None, min_length=12, max_length=1024)


class AuditorRequestOut(BaseModel):
    """A request and its decision (never the password or its hash)."""

    id: int
    action: str
    username: str
    role: str | None
    status: str
    requested_by: str
    decided_by: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None

    @classmethod
    def of(cls, row: AuditorRequest) -> AuditorRequestOut:
        """From the ORM row."""
        return cls(id=row.id, action=row.action, username=row.username, role=row.role,
                   status=row.status, requested_by=row.requested_by, decided_by=row.decided_by,
                   created_at=row.created_at, decided_at=row.decided_at)


@router.get("/users", response_model=list[UserOut], summary="List users")
def list_users(_: Reader, rt: Runtime) -> list[UserOut]:
    """Every user, by name."""
    with rt.db.session() as db:
        return [UserOut.of(u) for u in users.list_users(db)]


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user")
def create_user(body: UserCreate, caller: Manager, rt: Runtime) -> UserOut:
    """Add a person or an API user."""
    with rt.db.session() as db:
        user = users.create_user(rt, db, caller.actor, username=body.username, role=body.role,
                                 kind=body.kind, password=body.password)
        return UserOut.of(user)


@router.get("/users/{username}", response_model=UserOut, summary="Get a user")
def get_user(username: NamePath, _: Reader, rt: Runtime) -> UserOut:
    """One user."""
    with rt.db.session() as db:
        return UserOut.of(users.get_user(db, username))


@router.patch("/users/{username}", response_model=UserOut, summary="Change role or disable")
def update_user(username: NamePath, body: UserUpdate, caller: Manager, rt: Runtime) -> UserOut:
    """Disabling a user revokes their sessions; keys stop working while disabled."""
    with rt.db.session() as db:
        return UserOut.of(users.update_user(db, caller, username, body.role, body.disabled))


@router.post("/users/{username}/password", response_model=Ok, summary="Reset a password")
def reset_password(username: NamePath, body: PasswordReset, caller: Manager, rt: Runtime) -> Ok:
    """Set a new password and end the user's sessions."""
    with rt.db.session() as db:
        users.change_password(rt, db, caller.actor, username, body.password)
    return Ok()


@router.post("/users/{username}/sessions/revoke", response_model=Revoked,
             summary="Revoke a user's sessions")
def revoke_sessions(username: NamePath, caller: Manager, rt: Runtime) -> Revoked:
    """End every live session of the user at once."""
    with rt.db.session() as db:
        return Revoked(revoked=users.revoke_user_sessions(db, caller.actor, username))


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="List API keys")
def list_keys(_: KeyManager, rt: Runtime) -> list[ApiKeyOut]:
    """All keys, without their secrets."""
    with rt.db.session() as db:
        return [ApiKeyOut.of(k, name) for k, name in users.list_api_keys(db)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, summary="Issue an API key")
def create_key(body: ApiKeyCreate, caller: KeyManager, rt: Runtime) -> ApiKeyCreated:
    """Issue a scoped key to an API user; the key is in this response only."""
    with rt.db.session() as db:
        key, secret = users.create_api_key(db, caller.actor, body.username,
                                           frozenset(body.scopes), body.expires_at)
        return ApiKeyCreated(key=secret, **ApiKeyOut.of(key, body.username).model_dump())


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke an API key")
def revoke_key(key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")], caller: KeyManager,
               rt: Runtime) -> ApiKeyOut:
    """The key stops working immediately."""
    with rt.db.session() as db:
        key = users.revoke_api_key(db, caller.actor, key_id)
        user = db.get(User, key.user_id)
        return ApiKeyOut.of(key, user.username if user else "")


@router.get("/auditor-requests", response_model=list[AuditorRequestOut],
            summary="List auditor-account requests")
def list_auditor_requests(_: Approver, rt: Runtime,
                          status: Literal["pending", "approved", "rejected"] | None = None,
                          ) -> list[AuditorRequestOut]:
    """Requests to create, re-role or reset auditor accounts, newest first."""
    with rt.db.session() as db:
        return [AuditorRequestOut.of(r) for r in auditor_requests.list_requests(db, status)]


@router.post("/auditor-requests", response_model=AuditorRequestOut, status_code=202,
             summary="Ask for a change to an auditor account")
def request_auditor_change(body: AuditorRequestCreate, caller: Manager,
                           rt: Runtime) -> AuditorRequestOut:
    """Nothing changes until a different administrator or an auditor approves."""
    with rt.db.session() as db:
        row = auditor_requests.request_change(rt, db, caller, action=body.action,
                                              username=body.username, role=body.role,
                                              password=body.password)
        return AuditorRequestOut.of(row)


@router.post("/auditor-requests/{request_id}/approve", response_model=AuditorRequestOut,
             summary="Approve an auditor-account request (not your own)")
def approve_auditor_change(request_id: RequestId, caller: Approver,
                           rt: Runtime) -> AuditorRequestOut:
    """Apply the change; the requester's own approval is refused."""
    with rt.db.session() as db:
        return AuditorRequestOut.of(auditor_requests.approve(db, caller, request_id))


@router.post("/auditor-requests/{request_id}/reject", response_model=AuditorRequestOut,
             summary="Reject an auditor-account request")
def reject_auditor_change(request_id: RequestId, caller: Approver,
                          rt: Runtime) -> AuditorRequestOut:
    """Close the request without any change."""
    with rt.db.session() as db:
        return AuditorRequestOut.of(auditor_requests.reject(db, caller, request_id))
