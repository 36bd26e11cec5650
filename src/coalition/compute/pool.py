"""Local process-pool executor."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

__all__ = ["ProcessExecutor", "default_executor"]

T = TypeVar("T")
R = TypeVar("R")


class ProcessExecutor:
    """Maps over items with a lazily started pool of ``workers`` processes.

    Uses the ``spawn`` start method: forking a process that holds gRPC threads or locks is
    unsafe. With one worker, or one item, work runs inline (no pickling, no start-up cost).
    """

    def __init__(self, workers: int | None = None) -> None:
        self._workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """Worker process count."""
        return self._workers

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]`` across the pool, in order."""
        if self._workers == 1 or len(items) <= 1:
            return [fn(x) for x in items]
        return list(self._get_pool().map(fn, items))

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Start ``fn(item)`` on a worker now and return its future, so a caller can keep
        receiving while it runs (pipelines); with one worker it runs inline, already done."""
        if self._workers == 1:
            done: Future[R] = Future()
            try:
                done.set_result(fn(item))
            except Exception as exc:  # handed to the caller through result()
                done.set_exception(exc)
            return done
        return self._get_pool().submit(fn, item)

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=ctx)
            return self._pool

    def shutdown(self) -> None:
        """Stop the worker processes (they restart on the next ``map``)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


_default: ProcessExecutor | None = None
_default_lock = threading.Lock()


def default_executor() -> ProcessExecutor:
    """The process-wide executor, sized to the machine's cores."""
    global _default  # noqa: PLW0603 - one shared pool per process is the point
    with _default_lock:
        if _default is None:
            _default = ProcessExecutor()
            atexit.register(_default.shutdown)
        return _default
