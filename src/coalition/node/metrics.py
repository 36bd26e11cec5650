"""The node's Prometheus metrics: one registry per runtime, rendered by ``GET /metrics``.

Families (besides the per-service serving metrics of :mod:`.serving.metrics`, rendered first by
the same route):

* ``coalition_jobs{state}``, ``coalition_tasks{state}`` — rows by state, counted from the
  database when scraped (so they survive restarts and agree with the API);
* ``coalition_task_runs_total{component,outcome}`` and ``coalition_task_run_seconds{component}``
  — this node's share of each task run (one per local party); PSI and PIR runs are the
  ``psi`` / ``pir`` components;
* ``coalition_worker_processes`` — worker processes running now;
  ``coalition_worker_exits_total{outcome}`` (``ok``, ``error``, ``died``);
* ``coalition_transport_bytes_total{direction}`` (``sent``, ``received``) — job traffic: the
  payload bytes of the workers' party channels, reported by each worker when it ends;
  ``coalition_transport_errors_total{code}`` — worker runs that ended on a ``peer.*`` error;
* ``coalition_peer_calls_total{direction,method,outcome}`` — node-to-node calls over mutual
  TLS (``out``: this node calling, ``in``: partners calling); ``outcome`` is ``ok`` or the
  typed error code; ``coalition_peer_bytes_total{direction}`` (``sent``, ``received``): their
  request and reply bodies.

Labels carry names of methods, components and codes only, never a job id or a value: the
series count stays bounded and a scrape reveals nothing about data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from coalition.core.errors import ConfigError
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["METRICS", "NodeMetrics", "StateCounts", "metrics_of"]

# ``(family, help, {state: count})`` rows a feature reports at scrape time.
StateCounts = Callable[[NodeRuntime], Iterable[tuple[str, str, dict[str, int]]]]


class _ScrapeTime(Collector):
    def __init__(self, rt: NodeRuntime, counts: StateCounts) -> None:
        self._rt, self._counts = rt, counts

    def collect(self) -> Iterator[Metric]:
        for name, help_text, by_state in self._counts(self._rt):
            family = GaugeMetricFamily(name, help_text, labels=["state"])
            for state, count in sorted(by_state.items()):
                family.add_metric([state], count)
            yield family


class NodeMetrics:
    """The runtime's registry and the families features record into."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._rt = rt
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.task_runs = Counter("coalition_task_runs", "Task runs of this node's parties.",
                                 ["component", "outcome"], registry=r)
        self.task_seconds = Histogram("coalition_task_run_seconds",
                                      "Wall time of this node's task runs.", ["component"],
                                      buckets=(1, 5, 15, 60, 300, 900, 3600, 14400), registry=r)
        self.workers = Gauge("coalition_worker_processes", "Worker processes running now.",
                             registry=r)
        self.worker_exits = Counter("coalition_worker_exits", "Worker processes that ended.",
                                    ["outcome"], registry=r)
        self.peer_calls = Counter("coalition_peer_calls", "Node-to-node calls.",
                                  ["direction", "method", "outcome"], registry=r)
        self.peer_bytes = Counter("coalition_peer_bytes", "Bytes of node-to-node calls "
                                  "(request and reply bodies).", ["direction"], registry=r)
        self.transport_bytes = Counter("coalition_transport_bytes", "Payload bytes the "
                                       "workers' party channels carried (gRPC, mutual TLS).",
                                       ["direction"], registry=r)
        self.transport_errors = Counter("coalition_transport_errors", "Worker runs that ended "
                                        "on a transport error (peer.*), by code.", ["code"],
                                        registry=r)
        self._scraped: set[str] = set()

    def count_at_scrape(self, name: str, counts: StateCounts) -> None:
        """Add gauges computed when scraped (once per ``name``; later calls are ignored)."""
        if name not in self._scraped:
            self._scraped.add(name)
            self.registry.register(_ScrapeTime(self._rt, counts))

    def peer_call(self, direction: str, method: str, outcome: str, sent: int,
                  received: int) -> None:
        """Record one node-to-node call and its body sizes."""
        self.peer_calls.labels(direction, method, outcome).inc()
        self.peer_bytes.labels("sent").inc(sent)
        self.peer_bytes.labels("received").inc(received)

    def render(self) -> str:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry).decode()


METRICS: Slot[NodeMetrics] = Slot("metrics", NodeMetrics)


def metrics_of(rt: NodeRuntime) -> NodeMetrics:
    """The runtime's metrics (a detached set once the runtime is closed: a worker thread that
    ends after ``rt.close()`` records into nothing instead of failing)."""
    try:
        return rt.state(METRICS)
    except ConfigError:
        return NodeMetrics(rt)
