"""Who is calling: a user authenticated by session token or API key."""

from __future__ import annotations

from dataclasses import dataclass

from coalition.node.auth.permissions import Permission, UserRole

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller and the permissions this credential carries.

    For a session these are the role's permissions; for an API key, the key's scopes
    intersected with its user's role, so a key can never exceed its user.
    """

    user_id: int
    username: str
    role: UserRole
    permissions: frozenset[Permission]
    session_id: int | None = None
    key_id: str | None = None

    @property
    def actor(self) -> str:
        """The audit actor string."""
        return f"user:{self.username}"
