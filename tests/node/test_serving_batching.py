"""Opportunistic batching: concurrent requests share one scoring call; a failing batch is
retried request by request, so one bad ID does not fail its neighbours."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from coalition.core.errors import NotFoundError
from coalition.node.serving.batching import Batcher


def _rows(ids: list[str]) -> np.ndarray:
    return np.array([[float(i)] for i in ids])


async def _queued(batcher: Batcher, n: int) -> None:
    while len(batcher._queue) < n:  # white-box: wait until the requests have queued
        await asyncio.sleep(0.01)


def test_concurrent_requests_share_a_call_and_get_their_own_scores() -> None:
    gate = threading.Event()
    calls: list[list[str]] = []

    def score(ids: list[str], rows: np.ndarray) -> np.ndarray:
        calls.append(list(ids))
        if len(calls) == 1:
            gate.wait(10)  # hold the first batch until the others have queued
        return rows[:, 0] * 10

    async def main() -> None:
        batcher = Batcher(score)
        first = asyncio.create_task(batcher.submit(["1"], _rows(["1"])))
        while not calls:
            await asyncio.sleep(0.01)
        rest = [asyncio.create_task(batcher.submit([str(i), str(i + 10)],
                                                   _rows([str(i), str(i + 10)])))
                for i in range(2, 6)]
        await _queued(batcher, 4)
        gate.set()
        assert (await first).tolist() == [10.0]
        for i, task in zip(range(2, 6), rest, strict=True):
            assert (await task).tolist() == [i * 10.0, (i + 10) * 10.0]

    asyncio.run(main())
    assert len(calls) == 2  # the lone first request, then one batch of the four queued
    assert sorted(calls[1]) == sorted(str(i) for j in range(2, 6) for i in (j, j + 10))


def test_a_failing_batch_is_retried_alone() -> None:
    gate = threading.Event()
    seen: list[list[str]] = []

    def score(ids: list[str], rows: np.ndarray) -> np.ndarray:
        seen.append(list(ids))
        if len(seen) == 1:
            gate.wait(10)
        if "bad" in ids:
            raise NotFoundError("IDs not found", missing=1)
        return np.ones(len(ids))

    async def main() -> None:
        batcher = Batcher(score)
        lead = asyncio.create_task(batcher.submit(["a"], np.zeros((1, 1))))
        while not seen:
            await asyncio.sleep(0.01)
        good = asyncio.create_task(batcher.submit(["b"], np.zeros((1, 1))))
        bad = asyncio.create_task(batcher.submit(["bad"], np.zeros((1, 1))))
        await _queued(batcher, 2)
        gate.set()
        assert (await lead).tolist() == [1.0]
        assert (await good).tolist() == [1.0]
        with pytest.raises(NotFoundError):
            await bad

    asyncio.run(main())
    assert seen == [["a"], ["b", "bad"], ["b"], ["bad"]]
