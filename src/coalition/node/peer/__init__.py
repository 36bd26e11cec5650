"""Node-to-node calls: declared methods, the registry that answers them, endpoint and client.

* :mod:`.method` — :class:`PeerMethod` (name, request/response models, access, requirement);
* :mod:`.registry` — :class:`PeerRegistry`: handlers and guards bound at composition;
* :mod:`.endpoint` — :class:`PeerEndpoint`: the gRPC server over mutual TLS;
* :mod:`.client` — :class:`PeerClient`: cached mTLS channels, typed calls (``rt.peers``);
* :mod:`.wire` — typed errors ↔ gRPC status.

Feature packages declare their methods next to their handlers (``jobs.peer_methods``,
``models.peer_methods``, ``serving.peer_methods``, ``partner_api``) and import only
:mod:`.method`; :mod:`coalition.node.composition` registers them. This package imports no
feature.
"""

from coalition.node.peer.client import PeerClient
from coalition.node.peer.endpoint import PeerEndpoint
from coalition.node.peer.method import (
           Access,
           Empty,
           PeerMethod,
           PeerRequest,
           PeerResponse,
           Requirement,
)
from coalition.node.peer.registry import PeerMethodUnknown, PeerRegistry
from coalition.node.peer.wire import SERVICE, RemoteFailure

__all__ = ["SERVICE", "Access", "Empty", "PeerClient", "PeerEndpoint", "PeerMethod",
           "PeerMethodUnknown", "PeerRegistry", "PeerRequest", "PeerResponse", "RemoteFailure",
           "Requirement"]
