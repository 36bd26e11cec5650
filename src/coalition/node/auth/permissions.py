"""Roles, permissions and the one table that joins them.

Every API route declares exactly one :class:`Permission`; the table below is the only place that
says which role holds it, and ``tests/node/test_permissions.py`` checks every route against it
for every role. Separation of duties: administrators manage people and partners but cannot export
the audit trail; auditors read everything audit-related and change nothing except approving (as
the second person) changes to auditor accounts, which no administrator makes alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["ROLE_PERMISSIONS", "Permission", "UserRole", "allowed"]


class UserRole(StrEnum):
    """A user's role on this node."""

    ADMIN = "admin"
    DATA_SCIENTIST = "data_scientist"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Permission(StrEnum):
    """One thing a caller may do; API-key scopes are sets of these."""

    NODE_READ = "node.read"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    AUDITORS_APPROVE = "users.approve_auditor"  # second approval of auditor-account changes
    API_KEYS_MANAGE = "api_keys.manage"
    PARTNERS_READ = "partners.read"
    PARTNERS_MANAGE = "partners.manage"
    PARTNERS_CHECK = "partners.check"
    DATASETS_READ = "datasets.read"
    DATASETS_MANAGE = "datasets.manage"
    DATASETS_PREVIEW = "datasets.preview"
    DATASETS_SHARE = "datasets.share"
    REMOTE_DATASETS_READ = "remote_datasets.read"
    GRANTS_READ = "grants.read"
    GRANTS_REQUEST = "grants.request"
    GRANTS_DECIDE = "grants.decide"
    POLICIES_MANAGE = "policies.manage"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    JOBS_READ = "jobs.read"
    JOBS_SUBMIT = "jobs.submit"
    JOBS_CANCEL = "jobs.cancel"
    JOBS_APPROVE = "jobs.approve"
    MODELS_READ = "models.read"
    MODELS_MANAGE = "models.manage"
    SERVICES_READ = "services.read"
    SERVICES_MANAGE = "services.manage"
    SERVICES_PREDICT = "services.predict"


_P = Permission
ROLE_PERMISSIONS: Mapping[UserRole, frozenset[Permission]] = {
    UserRole.ADMIN: frozenset({
        _P.NODE_READ, _P.USERS_READ, _P.USERS_MANAGE, _P.AUDITORS_APPROVE, _P.API_KEYS_MANAGE,
        _P.PARTNERS_READ,
        _P.PARTNERS_MANAGE, _P.PARTNERS_CHECK, _P.DATASETS_READ, _P.DATASETS_MANAGE,
        _P.DATASETS_PREVIEW, _P.DATASETS_SHARE, _P.REMOTE_DATASETS_READ, _P.GRANTS_READ,
        _P.GRANTS_REQUEST, _P.GRANTS_DECIDE, _P.POLICIES_MANAGE, _P.AUDIT_READ,
        _P.JOBS_READ, _P.JOBS_SUBMIT, _P.JOBS_CANCEL, _P.JOBS_APPROVE,
        _P.MODELS_READ, _P.MODELS_MANAGE, _P.SERVICES_READ, _P.SERVICES_MANAGE, _P.SERVICES_PREDICT,
    }),
    UserRole.DATA_SCIENTIST: frozenset({
        _P.NODE_READ, _P.PARTNERS_READ, _P.DATASETS_READ, _P.DATASETS_MANAGE,
        _P.DATASETS_PREVIEW, _P.DATASETS_SHARE, _P.REMOTE_DATASETS_READ, _P.GRANTS_READ,
        _P.GRANTS_REQUEST, _P.JOBS_READ, _P.JOBS_SUBMIT, _P.JOBS_CANCEL,
        _P.MODELS_READ, _P.MODELS_MANAGE, _P.SERVICES_READ, _P.SERVICES_MANAGE, _P.SERVICES_PREDICT,
    }),
    UserRole.OPERATOR: frozenset({
        _P.NODE_READ, _P.PARTNERS_READ, _P.PARTNERS_MANAGE, _P.PARTNERS_CHECK, _P.DATASETS_READ,
        _P.GRANTS_READ, _P.GRANTS_DECIDE, _P.JOBS_READ, _P.JOBS_CANCEL, _P.JOBS_APPROVE,
        _P.MODELS_READ, _P.SERVICES_READ, _P.SERVICES_MANAGE,
    }),
    UserRole.AUDITOR: frozenset({
        _P.NODE_READ, _P.PARTNERS_READ, _P.DATASETS_READ, _P.GRANTS_READ, _P.AUDIT_READ,
        _P.AUDIT_EXPORT, _P.JOBS_READ, _P.AUDITORS_APPROVE,
        _P.MODELS_READ, _P.SERVICES_READ,
    }),
}


def allowed(role: UserRole, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``."""
    return permission in ROLE_PERMISSIONS[role]
