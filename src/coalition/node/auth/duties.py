"""Separation of duties: which user changes one administrator may not make alone.

An auditor reads and exports the audit trail; if a single administrator could create an auditor,
reset an auditor's password or move an account to or from the auditor role, that administrator
could export the trail (and read everything audit-related) alone. Those changes therefore go
through :mod:`coalition.node.auth.auditor_requests`: one administrator asks, a *different*
administrator or an existing auditor approves. The direct paths refuse them with
:class:`ApprovalRequired`.
"""

from __future__ import annotations

from typing import ClassVar

from coalition.core.errors import ConflictError
from coalition.node.auth.permissions import UserRole

__all__ = ["ApprovalRequired", "check_create", "check_password_reset", "check_role_change"]

_HINT = "auditor accounts change only through an approved request (POST /auditor-requests)"


class ApprovalRequired(ConflictError):
    """The change needs a second person's approval; nothing was changed."""

    code: ClassVar[str] = "users.approval_required"


def check_create(role: UserRole | str, kind: str) -> None:
    """Creating an auditor needs approval; auditors are people, never API users."""
    if role == UserRole.AUDITOR:
        if kind != "human":
            raise ConflictError("auditor accounts are people: API users cannot be auditors")
        raise ApprovalRequired(_HINT)


def check_role_change(current: str, new: UserRole | str | None) -> None:
    """Moving an account to or from the auditor role needs approval."""
    if new is not None and new != current and UserRole.AUDITOR in (current, new):
        raise ApprovalRequired(_HINT)


def check_password_reset(role: str, *, own: bool) -> None:
    """Someone else setting an auditor's password needs approval (auditors change their own)."""
    if role == UserRole.AUDITOR and not own:
        raise ApprovalRequired(_HINT)
