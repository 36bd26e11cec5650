"""Identity and access: roles and permissions, passwords, sessions, API keys, login limits.

* :mod:`.permissions`, :mod:`.principal` — roles, permissions, who is calling;
* :mod:`.passwords`, :mod:`.tokens`, :mod:`.ratelimit`, :mod:`.clientip` — credentials and
  login limits (the runtime holds the limiters);
* :mod:`.users` — users, API keys, login; :mod:`.duties` — separation of duties;
  :mod:`.auditor_requests` — auditor changes approved by a second person;
* :mod:`.routes` — ``/api/v1/auth``; :mod:`.user_routes` — ``/api/v1/users``.

The names below are the building blocks; this ``__init__`` does not import :mod:`.users` or
the routes (the runtime imports the package, and :mod:`.users` imports the runtime).
"""

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
