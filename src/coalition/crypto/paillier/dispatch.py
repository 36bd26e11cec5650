"""Split a list of work into chunks over an optional executor (inline when it would not pay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from coalition.compute import chunk_slices
from coalition.core import Executor

__all__ = ["MIN_CHUNK", "chunked_map"]

T = TypeVar("T")
W = TypeVar("W")
R = TypeVar("R")

# Chunks smaller than this cost more in pickling and table look-ups than they save.
MIN_CHUNK = 64


def chunked_map(
    fn: Callable[[W], list[R]],
    make_task: Callable[[list[T]], W],
    items: Sequence[T],
    executor: Executor | None,
    *,
    min_chunk: int = MIN_CHUNK,
) -> list[R]:
    """``fn(make_task(items))`` computed chunk by chunk on ``executor``, results concatenated.

    ``fn`` must be a module-level function (process executors pickle it by name).
    """
    items = list(items)
    workers = executor.workers if executor is not None else 1
    if executor is None or workers <= 1 or len(items) < 2 * min_chunk:
        return fn(make_task(items))
    slices = chunk_slices(len(items), workers, min_size=min_chunk)
    parts = executor.map(fn, [make_task(items[s]) for s in slices])
    return [r for part in parts for r in part]
