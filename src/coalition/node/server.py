"""Running a node: the user API (uvicorn) and the peer endpoint (gRPC) in one process.

uvicorn owns the signal handlers while it serves: SIGTERM or SIGINT make it finish in-flight
requests and return. It then re-raises the signal to the handler that was installed before it
started; ours only records it, so the peer endpoint stops (short grace period), the serving
query volume of the unfinished audit window is written, the database connections close, and the
process exits with status 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from types import FrameType

import uvicorn

from coalition.core.errors import CoalitionError
from coalition.node.app import create_app
from coalition.node.peer import PeerEndpoint
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.host import flush_volume
from coalition.node.settings import NodeSettings

__all__ = ["run_node"]

log = logging.getLogger("coalition.node")


def _record(signum: int, _frame: FrameType | None) -> None:
    log.info("received %s, shutting down", signal.Signals(signum).name)


def run_node(settings: NodeSettings) -> None:
    """Serve until SIGTERM/SIGINT, then shut down cleanly and return."""
    previous = {sig: signal.signal(sig, _record) for sig in (signal.SIGTERM, signal.SIGINT)}
    rt = NodeRuntime.open(settings)
    app = create_app(rt)  # composes the node: rt.peers holds the peer registry the endpoint answers
    peer = PeerEndpoint(rt).start()
    try:
        config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port,
                                log_level="info", access_log=False, lifespan="off")
        log.info("node %s: API on %s:%d, peer endpoint on %s:%d", settings.name,
                 settings.api_host, settings.api_port, settings.peer_host, peer.port)
        uvicorn.Server(config).run()
    finally:
        peer.stop()
        with contextlib.suppress(CoalitionError):  # the audit must not block the shutdown
            flush_volume(rt)
        rt.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("node %s stopped", settings.name)
