"""Identity and access: roles and permissions, passwords, sessions, API keys, login limits."""

from coalition.node.auth.passwords import Passwords, generate_password
from coalition.node.auth.permissions import ROLE_PERMISSIONS, Permission, UserRole, allowed
from coalition.node.auth.principal import Principal
from coalition.node.auth.ratelimit import SlidingWindow
from coalition.node.auth.tokens import authenticate, issue_api_key, issue_session, revoke_sessions

__all__ = [
    "ROLE_PERMISSIONS",
    "Passwords",
    "Permission",
    "Principal",
    "SlidingWindow",
    "UserRole",
    "allowed",
    "authenticate",
    "generate_password",
    "issue_api_key",
    "issue_session",
    "revoke_sessions",
]
