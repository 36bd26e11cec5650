"""Node-specific errors; each maps to one HTTP status in the single RFC 9457 handler."""

from __future__ import annotations

from typing import ClassVar

from coalition.core.errors import AuthError

__all__ = ["RateLimited", "Unauthenticated"]


class Unauthenticated(AuthError):
    """No valid credentials: missing, unknown, expired or revoked token or key."""

    code: ClassVar[str] = "auth.unauthenticated"
    http_status: ClassVar[int] = 401


class RateLimited(AuthError):
    """Too many attempts; ``retry_after_s`` says when to try again."""

    code: ClassVar[str] = "auth.rate_limited"
    http_status: ClassVar[int] = 429
