"""Shared helpers for benchmark scripts: the JSON line format of ../shared/BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["emit", "machine_info", "median_time", "peak_rss_mb", "ratio"]


def machine_info() -> dict[str, Any]:
    """Cores and current load, recorded with every figure."""
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        load1 = None
    return {"cores": os.cpu_count(), "load1": load1}


def median_time(fn: Callable[[], Any], *, reps: int = 3, warmup: int = 1) -> float:
    """Median wall seconds of ``fn()`` over ``reps`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ratio(ours: float | None, anchor: float | None, *, higher_is_better: bool) -> float | None:
    """How many times better we are than the anchor (>1 is better)."""
    if ours is None or anchor is None or ours == 0 or anchor == 0:
        return None
    return round(ours / anchor if higher_is_better else anchor / ours, 3)


def emit(bench: str, *, unit: str, ours: float | None, anchor: str, anchor_value: float | None,
         higher_is_better: bool, params: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    """Print one benchmark line as JSON and return it."""
    line = {
        "bench": bench,
        "unit": unit,
        "ours": ours,
        "anchor": anchor,
        "anchor_value": anchor_value,
        "ratio": extra.pop("ratio", ratio(ours, anchor_value, higher_is_better=higher_is_better)),
        "higher_is_better": higher_is_better,
        "params": params or {},
        **extra,
        "machine": machine_info(),
    }
    print(json.dumps(line), flush=True)
    sys.stdout.flush()
    return line
