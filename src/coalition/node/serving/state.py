"""In-memory serving state of one running node: deployed services, host bindings, metrics.

The hot path reads only this (no database): services and bindings are built at deploy time,
with model parts verified and feature sources loaded, and rebuilt lazily from the database
after a restart. The state is held on the node runtime (slot :data:`STATE`: one per runtime,
created on first use, closed with it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from coalition.node.partners.tables import Partner
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.batching import Batcher
from coalition.node.serving.features import Lookup
from coalition.node.serving.limits import Limits, QueryLedger
from coalition.node.serving.metrics import ServiceMetrics
from coalition.node.serving.scoring import GuestScorer, HostScorer
from coalition.node.slots import Slot

__all__ = ["STATE", "Deployed", "HostBinding", "ServingState", "state_of"]


@dataclass
class Deployed:
    """A service this node (the guest) answers: its scorer, hosts and feature lookup."""

    name: str
    model: str
    version: int
    scorer: GuestScorer
    hosts: list[Partner]
    lookup: Lookup | None
    timeout_s: float
    batcher: Batcher | None = None
    lookup_blocks: bool = False  # a SQL source: look rows up off the event loop
    limits: Limits | None = None  # per API key or session; None: the node's defaults


@dataclass
class HostBinding:
    """A partner's service this node (a host) contributes to."""

    model: str
    version: int
    scorer: HostScorer
    lookup: Lookup
    info: dict[str, Any]
    cohosts: tuple[str, ...] = ()  # the other hosts; partial results wait for pair keys
    pair_keys: dict[str, bytes] = field(default_factory=dict, repr=False)  # secrets


@dataclass
class ServingState:
    """Everything the serving hot path reads; guarded by ``lock`` for writes."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    services: dict[str, Deployed] = field(default_factory=dict)
    bindings: dict[tuple[str, str], HostBinding] = field(default_factory=dict)
    metrics: dict[str, ServiceMetrics] = field(default_factory=dict)
    ledger: QueryLedger | None = None

    def metrics_for(self, service: str) -> ServiceMetrics:
        """The metrics of ``service`` (created on first use)."""
        m = self.metrics.get(service)
        if m is None:
            with self.lock:
                m = self.metrics.setdefault(service, ServiceMetrics())
        return m

    def close(self) -> None:
        """Forget every service and binding (and with them the pair keys): the node stops."""
        with self.lock:
            for binding in self.bindings.values():
                binding.pair_keys.clear()
            self.services.clear()
            self.bindings.clear()


STATE: Slot[ServingState] = Slot("serving.state", lambda rt: ServingState(),
                                  close=ServingState.close)


def state_of(rt: NodeRuntime) -> ServingState:
    """The serving state of ``rt`` (``rt.state(STATE)``: each runtime has its own)."""
    return rt.state(STATE)
