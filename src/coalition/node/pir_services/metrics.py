"""Prometheus counters of PIR batches, per runtime: batches by side, mode and state, and the
padded queries answered or asked; appended to ``/metrics`` (``serving.metrics.EXPOSITIONS``)."""

from __future__ import annotations

import threading

from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["PIR_METRICS", "PirMetrics"]


class PirMetrics:
    """Counters since this node process started (Prometheus counters reset on restart)."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._lock = threading.Lock()
        self.batches: dict[tuple[str, str, str], int] = {}
        self.queries: dict[tuple[str, str], int] = {}

    def record(self, side: str, mode: str, state: str, padded: int | None) -> None:
        """Count one batch."""
        with self._lock:
            key = (side, mode, state)
            self.batches[key] = self.batches.get(key, 0) + 1
            if state == "ok" and padded:
                self.queries[(side, mode)] = self.queries.get((side, mode), 0) + padded

    def render(self) -> str:
        """Prometheus text (format 0.0.4)."""
        with self._lock:
            batches, queries = sorted(self.batches.items()), sorted(self.queries.items())
        lines = ["# HELP coalition_pir_batches_total PIR batches by side, mode and state.",
                 "# TYPE coalition_pir_batches_total counter"]
        lines += [f'coalition_pir_batches_total{{side="{s}",mode="{m}",state="{st}"}} {n}'
                  for (s, m, st), n in batches]
        lines += ["# HELP coalition_pir_queries_total Padded PIR queries in answered batches.",
                  "# TYPE coalition_pir_queries_total counter"]
        lines += [f'coalition_pir_queries_total{{side="{s}",mode="{m}"}} {n}'
                  for (s, m), n in queries]
        return "\n".join(lines) + "\n"


PIR_METRICS: Slot[PirMetrics] = Slot("pir_services.metrics", PirMetrics)
