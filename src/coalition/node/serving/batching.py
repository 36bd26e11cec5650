"""Opportunistic batching of concurrent prediction requests (leader/follower, no added delay).

While one batch is on its way to the hosts, requests that arrive queue up; when it returns, the
first queued request leads the next batch with everything queued behind it. A lone request is
sent at once, so batching never waits on a timer; under concurrency the hosts get one call per
batch instead of one per request (the same idea as dynamic batching in inference servers, but
without a batching window). If a batch of several requests fails, each request is retried
alone, so one unknown ID cannot fail its neighbours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import CoalitionError

__all__ = ["Batcher"]

Matrix = NDArray[np.float64]
Score = Callable[[list[str], Matrix], Matrix]


class _Pending:
    __slots__ = ("done", "error", "ids", "lead", "result", "rows")

    def __init__(self, ids: list[str], rows: Matrix) -> None:
        self.ids, self.rows = ids, rows
        self.done = threading.Event()
        self.lead = False
        self.result: Matrix | None = None
        self.error: CoalitionError | None = None

    def outcome(self) -> Matrix:
        if self.error is not None:
            raise self.error
        if self.result is None:  # pragma: no cover - every path sets one of the two
            raise RuntimeError("batch finished without a result")
        return self.result


class Batcher:
    """Runs ``score(ids, rows)`` for concurrent callers, merging those that overlap."""

    def __init__(self, score: Score, max_ids: int = 2048) -> None:
        self._score = score
        self._max_ids = max_ids
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._busy = False

    def submit(self, ids: list[str], rows: Matrix) -> Matrix:
        """Scores for ``ids`` (guest feature ``rows``), possibly computed with other calls'."""
        me = _Pending(ids, rows)
        with self._lock:
            follower = self._busy
            if follower:
                self._queue.append(me)
            self._busy = True
        if follower:
            me.done.wait()
            if not me.lead:
                return me.outcome()
        batch = [me]
        with self._lock:
            size = len(ids)
            while self._queue and size + len(self._queue[0].ids) <= self._max_ids:
                size += len(self._queue[0].ids)
                batch.append(self._queue.pop(0))
        try:
            self._run(batch)
        finally:
            with self._lock:
                if self._queue:
                    nxt = self._queue.pop(0)
                    nxt.lead = True
                    nxt.done.set()
                else:
                    self._busy = False
        return me.outcome()

    def _run(self, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:
                batch[0].result = self._score(batch[0].ids, batch[0].rows)
            else:
                ids = [i for p in batch for i in p.ids]
                scores = self._score(ids, np.concatenate([p.rows for p in batch]))
                start = 0
                for p in batch:
                    p.result = scores[start:start + len(p.ids)]
                    start += len(p.ids)
        except CoalitionError as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for p in batch:
                    self._alone(p)
        finally:
            for p in batch[1:]:
                p.done.set()

    def _alone(self, p: _Pending) -> None:
        try:
            p.result = self._score(p.ids, p.rows)
        except CoalitionError as exc:
            p.error = exc
