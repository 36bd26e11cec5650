"""Roles and party identities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from coalition.core.errors import ConfigError, InputError

__all__ = ["JOB_ID_PATTERN", "Party", "Role", "check_job_id"]

JOB_ID_PATTERN = r"^[0-9a-f]{16}$"
"""A job id: 16 lowercase hex digits (``secrets.token_hex(8)``). Ids name folders on every
node of a job, so nothing else (``J1/.``, ``../x``) may ever be accepted as one."""
_JOB_ID = re.compile(JOB_ID_PATTERN)


def check_job_id(value: object) -> str:
    """``value`` if it is a well-formed job id, else :class:`InputError` (value not echoed)."""
    if not isinstance(value, str) or _JOB_ID.fullmatch(value) is None:
        raise InputError("a job id is 16 lowercase hex digits")
    return value


class Role(StrEnum):
    """What a party does in a job."""

    GUEST = "guest"  # label holder, initiator
    HOST = "host"  # feature provider
    ARBITER = "arbiter"  # optional coordinator / key holder / dealer


@dataclass(frozen=True, order=True)
class Party:
    """One participant of a job: a role plus a name unique within that role.

    Rendered as ``role:name`` (for instance ``host:telco``); that string is what travels in
    message envelopes and what :meth:`parse` reads back.
    """

    role: Role
    name: str

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name or "/" in self.name:
            raise ConfigError("party name must be non-empty and contain no ':' or '/'",
                              name=self.name)

    def __str__(self) -> str:
        return f"{self.role.value}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> Party:
        """Read ``role:name`` back into a :class:`Party`."""
        role, sep, name = text.partition(":")
        if not sep:
            raise ConfigError("party must be written role:name", party=text)
        try:
            return cls(Role(role), name)
        except ValueError as exc:
            raise ConfigError("unknown role", party=text) from exc

    @classmethod
    def guest(cls, name: str = "guest") -> Party:
        """A guest party."""
        return cls(Role.GUEST, name)

    @classmethod
    def host(cls, name: str = "host") -> Party:
        """A host party."""
        return cls(Role.HOST, name)

    @classmethod
    def arbiter(cls, name: str = "arbiter") -> Party:
        """An arbiter party."""
        return cls(Role.ARBITER, name)
