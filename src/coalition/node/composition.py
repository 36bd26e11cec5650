"""Where the node's features meet: the peer registry and the peer client on the runtime.

:func:`peer_registry` asks each feature to register its peer methods (and, for jobs, the job
guards); :func:`install` puts a :class:`~coalition.node.peer.PeerClient` with that registry on
the runtime (``rt.peers``). The app (:func:`~coalition.node.app.create_app`) installs it; the
peer endpoint answers the installed registry unless it is given another.

This is the only module that imports every feature's handlers: :mod:`coalition.node.peer`
imports none, and no feature imports the endpoint, so there is no import circle to hold
together (see the import-linter contracts in ``pyproject.toml``). To add a peer method:
declare it in the feature's ``peer_methods`` module, write its handler, register it in the
feature's ``register`` function (listed below).
"""

from __future__ import annotations

from coalition.node.jobs import handlers as job_handlers
from coalition.node.ledger import peer as ledger_handlers
from coalition.node.library import peer as model_handlers
from coalition.node.partners import peer as partner_handlers
from coalition.node.peer.client import PeerClient
from coalition.node.peer.registry import PeerRegistry
from coalition.node.pir_services import provider as pir_handlers
from coalition.node.runtime import NodeRuntime
from coalition.node.serving import host as serving_handlers
from coalition.node.verify3 import peer as verify3_handlers

__all__ = ["install", "peer_registry"]


def peer_registry() -> PeerRegistry:
    """Every peer method this node answers, with its handler and guards."""
    registry = PeerRegistry()
    for register in (partner_handlers.register, job_handlers.register, model_handlers.register,
                     serving_handlers.register, verify3_handlers.register,
                     ledger_handlers.register, pir_handlers.register):
        register(registry)
    registry.check()
    return registry


def install(rt: NodeRuntime) -> PeerClient:
    """The runtime's peer client, created with :func:`peer_registry` on first call."""
    if not rt.has_peers:
        rt.attach_peers(PeerClient(rt, peer_registry()))
    return rt.peers
