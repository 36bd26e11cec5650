"""``/auth``: log in, log out, who am I, change my password."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from coalition.core.errors import AuthError
from coalition.node.api.deps import Require, client_address, runtime
from coalition.node.api.schemas import Ok, Strict
from coalition.node.auth import users
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])
Caller = Annotated[Principal, Depends(Require(Permission.NODE_READ))]
Runtime = Annotated[NodeRuntime, Depends(runtime)]


class LoginRequest(Strict):
    """Username and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    """A session token, shown once."""

    token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    username: str
    role: str


class Me(BaseModel):
    """The caller."""

    username: str
    role: str
    permissions: list[str]
    via: str


class PasswordChange(Strict):
    """The current password and the new one."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


@router.post("/login", response_model=LoginResponse, summary="Log in with a password")
def login(body: LoginRequest, request: Request, rt: Runtime) -> LoginResponse:
    """Start a session. Failed and throttled attempts get the same answer whether or not the
    user exists; repeated failures from one client slow that client down (429 + Retry-After)."""
    token, expires, user = users.login(rt, body.username, body.password, client_address(request))
    return LoginResponse(token=token, expires_at=expires, username=user.username, role=user.role)


@router.post("/logout", response_model=Ok, summary="End this session")
def logout(caller: Caller, rt: Runtime) -> Ok:
    """Revoke the session token used for this call."""
    with rt.db.session() as db:
        users.logout(db, caller)
    return Ok()


@router.get("/me", response_model=Me, summary="Who am I")
def me(caller: Caller) -> Me:
    """The caller's name, role and effective permissions."""
    return Me(username=caller.username, role=str(caller.role),
              permissions=sorted(str(p) for p in caller.permissions),
              via="api_key" if caller.key_id else "session")


@router.post("/password", response_model=Ok, summary="Change my password")
def change_password(body: PasswordChange, caller: Caller, rt: Runtime, request: Request) -> Ok:
    """Requires the current password; ends every session of the caller."""
    with rt.db.session() as db:
        user = users.get_user(db, caller.username)
        if not rt.passwords.verify(user.password_hash, body.current_password):
            raise AuthError("current password is wrong")
        users.change_password(rt, db, caller.actor, caller.username, body.new_password)
    return Ok()
