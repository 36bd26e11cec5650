"""The node service: settings, database, auth, audit, user API and peer endpoint.

One node per organisation. ``coalition node init`` makes a home with :func:`init_node`;
``coalition node start`` runs :func:`run_node`; tests build the ASGI app with
:func:`create_app` on a :class:`NodeRuntime`.
"""

from coalition.node.app import API_PREFIX, create_app
from coalition.node.home import InitResult, init_node
from coalition.node.runtime import NodeRuntime
from coalition.node.server import run_node
from coalition.node.settings import NodeSettings

__all__ = ["API_PREFIX", "InitResult", "NodeRuntime", "NodeSettings", "create_app", "init_node",
           "run_node"]
