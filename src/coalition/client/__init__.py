"""A Python client for a Coalition node's API, with the node's errors as typed exceptions.

See :class:`NodeClient`. This package depends only on ``coalition.core`` and httpx, so the
CLI, the local-cluster helpers, the SDK and user scripts can all use it.
"""

from coalition.client.errors import NodeUnreachableError, RemoteError, error_from_problem
from coalition.client.node import (
    API_PREFIX,
    DEFAULT_NODE_URL,
    NODE_URL_ENV,
    TOKEN_ENV,
    NodeClient,
)

__all__ = ["API_PREFIX", "DEFAULT_NODE_URL", "NODE_URL_ENV", "TOKEN_ENV", "NodeClient",
           "NodeUnreachableError", "RemoteError", "error_from_problem"]
