"""Opportunistic batching of concurrent prediction requests (no batching window).

Requests wait on the event loop, not in threads. While one batch is on its way to the hosts
(in a worker thread: the peer calls block), requests that arrive queue up; when it returns,
everything queued goes out as the next batch. A lone request is sent at once, so batching never
waits on a timer; under concurrency the hosts get one call per batch instead of one per
request, and the guest spends one thread hop per batch (the same idea as dynamic batching in
inference servers, without the window). If a batch of several requests fails, each request is
retried alone, so one bad request cannot fail its neighbours — except on a host's quota or
rate refusal, which fails the whole batch at once (retrying would only spend more quota).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from starlette.concurrency import run_in_threadpool

from coalition.core.errors import CoalitionError
from coalition.node.errors import RateLimited

__all__ = ["Batcher"]

Matrix = NDArray[np.float64]
Score = Callable[[list[str], Matrix], Matrix]
_Pending = tuple[list[str], Matrix, "asyncio.Future[Matrix]"]


class Batcher:
    """Runs ``score(ids, rows)`` (blocking) for concurrent callers, merging those that wait."""

    def __init__(self, score: Score, max_ids: int = 2048) -> None:
        self._score = score
        self._max_ids = max_ids
        self._queue: list[_Pending] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def submit(self, ids: list[str], rows: Matrix) -> Matrix:
        """Scores for ``ids`` (guest feature ``rows``), possibly computed with others'."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:  # a second event loop (tests): no sharing across loops
            return await run_in_threadpool(self._score, ids, rows)
        future: asyncio.Future[Matrix] = loop.create_future()
        self._queue.append((ids, rows, future))
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch: list[_Pending] = []
                size = 0
                while self._queue and (not batch or size + len(self._queue[0][0]) <= self._max_ids):
                    size += len(self._queue[0][0])
                    batch.append(self._queue.pop(0))
                await self._run(batch)
        finally:
            self._running = False

    async def _run(self, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:
                ids, rows = batch[0][0], batch[0][1]
            else:
                ids = [i for p in batch for i in p[0]]
                rows = np.concatenate([p[1] for p in batch])
            scores = await run_in_threadpool(self._score, ids, rows)
        except CoalitionError as exc:
            if len(batch) == 1 or isinstance(exc, RateLimited):
                for p in batch:
                    _settle(p[2], error=exc)
                return
            for p in batch:
                await self._alone(p)
            return
        except Exception as exc:  # a bug: fail the waiting requests, do not hang them
            for p in batch:
                _settle(p[2], error=exc)
            return
        start = 0
        for p in batch:
            _settle(p[2], result=scores[start:start + len(p[0])])
            start += len(p[0])

    async def _alone(self, p: _Pending) -> None:
        try:
            _settle(p[2], result=await run_in_threadpool(self._score, p[0], p[1]))
        except Exception as exc:  # handed to the waiting request, which raises it
            _settle(p[2], error=exc)


def _settle(future: asyncio.Future[Matrix], *, result: Matrix | None = None,
            error: BaseException | None = None) -> None:
    if future.done():  # the caller went away (client disconnected)
        return
    if error is not None:
        future.set_exception(error)
    elif result is not None:
        future.set_result(result)
