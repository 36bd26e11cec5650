"""Shared request/response pieces: name patterns and small reusable models."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NAME_PATTERN", "IdPath", "Name", "NamePath", "Ok", "Strict"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="letters, digits, _ . -; max 64")]
NamePath = Annotated[str, Path(pattern=NAME_PATTERN)]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]  # fits every SQL INTEGER


class Strict(BaseModel):
    """Request bodies reject unknown fields (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Ok(BaseModel):
    """A bare acknowledgement."""

    ok: bool = True
