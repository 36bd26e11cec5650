"""Running a node: the user API (uvicorn) and the peer endpoint (gRPC) in one process.

uvicorn owns the signal handlers: SIGTERM or SIGINT make it finish in-flight requests and
return, after which the peer endpoint stops (with a short grace period) and the database
connections close, so ``kill -TERM`` is a clean shutdown.
"""

from __future__ import annotations

import logging

import uvicorn

from coalition.node.app import create_app
from coalition.node.peer import PeerEndpoint
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import NodeSettings

__all__ = ["run_node"]

log = logging.getLogger("coalition.node")


def run_node(settings: NodeSettings) -> None:
    """Serve until SIGTERM/SIGINT."""
    rt = NodeRuntime.open(settings)
    peer = PeerEndpoint(rt).start()
    try:
        config = uvicorn.Config(create_app(rt), host=settings.api_host, port=settings.api_port,
                                log_level="info", access_log=False, lifespan="off")
        log.info("node %s: API on %s:%d, peer endpoint on %s:%d", settings.name,
                 settings.api_host, settings.api_port, settings.peer_host, peer.port)
        uvicorn.Server(config).run()
    finally:
        peer.stop()
        rt.close()
        log.info("node %s stopped", settings.name)
