"""Prometheus counters of verification batches, per runtime: batches by side (``served``,
``queried``) and outcome (``ok``, ``refused``), and OPRF evaluations by side; appended to the
node's ``/metrics`` (``serving.metrics.EXPOSITIONS``). Counts only, like the batch records."""

from __future__ import annotations

import threading

from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["VERIFY3_METRICS", "Verify3Metrics"]


class Verify3Metrics:
    """Counters since this node process started (Prometheus counters reset on restart)."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._lock = threading.Lock()
        self.batches: dict[tuple[str, str], int] = {}
        self.evaluations: dict[str, int] = {}

    def record(self, side: str, outcome: str, evaluations: int) -> None:
        """Count one batch (``evaluations``: padded OPRF elements; 0 when refused)."""
        with self._lock:
            self.batches[(side, outcome)] = self.batches.get((side, outcome), 0) + 1
            self.evaluations[side] = self.evaluations.get(side, 0) + evaluations

    def render(self) -> str:
        """Prometheus text (format 0.0.4)."""
        with self._lock:
            batches, evaluations = sorted(self.batches.items()), sorted(self.evaluations.items())
        lines = ["# HELP coalition_verify3_batches_total Three-element verification batches.",
                 "# TYPE coalition_verify3_batches_total counter"]
        lines += [f'coalition_verify3_batches_total{{side="{s}",outcome="{o}"}} {n}'
                  for (s, o), n in batches]
        lines += ["# HELP coalition_verify3_evaluations_total OPRF evaluations in verification "
                  "batches.", "# TYPE coalition_verify3_evaluations_total counter"]
        lines += [f'coalition_verify3_evaluations_total{{side="{s}"}} {n}'
                  for s, n in evaluations]
        return "\n".join(lines) + "\n"


VERIFY3_METRICS: Slot[Verify3Metrics] = Slot("verify3.metrics", Verify3Metrics)
