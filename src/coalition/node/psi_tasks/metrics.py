"""Prometheus counters of PSI runs, per runtime: finalised runs by protocol and final state,
and intersection rows; appended to the node's ``/metrics`` (``serving.metrics.EXPOSITIONS``)."""

from __future__ import annotations

import threading

from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["PSI_METRICS", "PsiMetrics"]


class PsiMetrics:
    """Counters since this node process started (Prometheus counters reset on restart)."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._lock = threading.Lock()
        self.runs: dict[tuple[str, str], int] = {}
        self.intersection_rows = 0

    def record(self, protocol: str, state: str, intersection: int | None) -> None:
        """Count one finalised run."""
        with self._lock:
            self.runs[(protocol, state)] = self.runs.get((protocol, state), 0) + 1
            self.intersection_rows += intersection or 0

    def render(self) -> str:
        """Prometheus text (format 0.0.4)."""
        with self._lock:
            runs = sorted(self.runs.items())
            rows = self.intersection_rows
        lines = ["# HELP coalition_psi_runs_total Finalised PSI task runs.",
                 "# TYPE coalition_psi_runs_total counter"]
        lines += [f'coalition_psi_runs_total{{protocol="{p}",state="{s}"}} {n}'
                  for (p, s), n in runs]
        lines += ["# HELP coalition_psi_intersection_rows_total Rows in PSI results.",
                  "# TYPE coalition_psi_intersection_rows_total counter",
                  f"coalition_psi_intersection_rows_total {rows}"]
        return "\n".join(lines) + "\n"


PSI_METRICS: Slot[PsiMetrics] = Slot("psi_tasks.metrics", PsiMetrics)
