"""Per-service request metrics, rendered in the Prometheus text exposition format (0.0.4).

Per service: requests, errors by code, and latency as a summary (quantiles 0.5/0.9/0.99 over
the last 4096 requests, plus ``_sum``/``_count`` over all). Recording is a lock and two
appends, so it costs the hot path well under a microsecond's worth of Python.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from coalition.node.slots import Slot

__all__ = ["EXPOSITIONS", "ServiceMetrics", "render"]

#: More Prometheus text that ``/metrics`` appends, per runtime: a feature above serving
#: (PSI tasks, ...) adds a function rendering its own counters; the app wires it.
EXPOSITIONS: Slot[list[Callable[[], str]]] = Slot("serving.expositions", lambda rt: [],
                                                  close=list.clear)

_WINDOW = 4096
_QUANTILES = (0.5, 0.9, 0.99)


class ServiceMetrics:
    """Counters and a latency window for one service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.errors: dict[str, int] = {}
        self.latency_sum = 0.0
        self._window: deque[float] = deque(maxlen=_WINDOW)

    def record(self, seconds: float, error_code: str | None = None) -> None:
        """Count one request and its latency (and its error code, if it failed)."""
        with self._lock:
            self.requests += 1
            self.latency_sum += seconds
            self._window.append(seconds)
            if error_code is not None:
                self.errors[error_code] = self.errors.get(error_code, 0) + 1

    def quantiles(self) -> dict[float, float]:
        """Latency quantiles (seconds) over the recent window; empty before any request."""
        with self._lock:
            window = np.fromiter(self._window, dtype=np.float64)
        if window.size == 0:
            return {}
        return {q: float(v) for q, v in zip(_QUANTILES, np.quantile(window, _QUANTILES),
                                           strict=True)}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(services: dict[str, ServiceMetrics]) -> str:
    """Prometheus text for every service."""
    lines = [
        "# HELP coalition_service_requests_total Prediction requests per service.",
        "# TYPE coalition_service_requests_total counter",
    ]
    for name, m in sorted(services.items()):
        lines.append(f'coalition_service_requests_total{{service="{_label(name)}"}} {m.requests}')
    lines += ["# HELP coalition_service_errors_total Failed prediction requests per error code.",
              "# TYPE coalition_service_errors_total counter"]
    for name, m in sorted(services.items()):
        for code, count in sorted(m.errors.items()):
            lines.append(f'coalition_service_errors_total{{service="{_label(name)}",'
                         f'code="{_label(code)}"}} {count}')
    lines += ["# HELP coalition_service_latency_seconds Prediction latency per service.",
              "# TYPE coalition_service_latency_seconds summary"]
    for name, m in sorted(services.items()):
        label = _label(name)
        for q, v in m.quantiles().items():
            lines.append(f'coalition_service_latency_seconds{{service="{label}",quantile="{q}"}} {v:.6f}')
        lines.append(f'coalition_service_latency_seconds_sum{{service="{label}"}} {m.latency_sum:.6f}')
        lines.append(f'coalition_service_latency_seconds_count{{service="{label}"}} {m.requests}')
    return "\n".join(lines) + "\n"
