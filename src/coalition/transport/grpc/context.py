"""One party, one process: a ready :class:`~coalition.core.Context` over gRPC."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from coalition.core.context import DEFAULT_TIMEOUT_S, Channel, Context, Executor, MetricsSink
from coalition.core.ids import Party
from coalition.transport.base import Flushable
from coalition.transport.grpc.channel import GrpcChannel
from coalition.transport.grpc.config import NetworkConfig
from coalition.transport.grpc.server import PeerServer
from coalition.transport.tls import PartyIdentity, Trust

__all__ = ["open_grpc_context"]


@contextmanager
def open_grpc_context(
    party: Party,
    *,
    listen: str,
    peers: Mapping[Party, str],
    identity: PartyIdentity,
    trust: Trust,
    job_id: str = "job",
    task_id: str = "task",
    timeout: float = DEFAULT_TIMEOUT_S,
    config: NetworkConfig | None = None,
    executor: Executor | None = None,
    metrics: MetricsSink | None = None,
    wrap: Callable[[Channel], Channel] | None = None,
    server: PeerServer | None = None,
) -> Iterator[Context]:
    """Serve ``party`` on ``listen`` and yield its :class:`Context` for one job task.

    ``peers`` maps every other party of the job to its ``host:port``. ``timeout`` is the
    context's receive timeout. Pass an already started ``server`` (``listen`` is then ignored)
    to learn the bound port before the peers are known. If the block raises, peers are told
    (their waits on this party fail at once with a PeerError); on exit the channel and the
    server (when opened here) are closed.
    """
    own = server is None
    srv = PeerServer(listen, identity, trust, config=config).start() if server is None else server
    try:
        channel = GrpcChannel(srv, party, peers, identity=identity, trust=trust,
                              job=job_id, task=task_id, config=config or srv.config)
        outer = wrap(channel) if wrap is not None else channel
        try:
            yield Context(outer, timeout=timeout, executor=executor, metrics=metrics)
            if isinstance(outer, Flushable):
                outer.flush(channel.config.send_timeout)
        except BaseException as exc:
            channel.abort(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            channel.close()
    finally:
        if own:
            srv.stop()
