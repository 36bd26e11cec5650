"""Opportunistic batching: concurrent requests share one scoring call; a failing batch is
retried request by request, so one bad ID does not fail its neighbours."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from coalition.core.errors import NotFoundError
from coalition.node.serving.batching import Batcher


def _rows(ids: list[str]) -> np.ndarray:
    return np.array([[float(i)] for i in ids])


def test_concurrent_requests_share_a_call_and_get_their_own_scores() -> None:
    gate, entered = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def score(ids: list[str], rows: np.ndarray) -> np.ndarray:
        calls.append(list(ids))
        if len(calls) == 1:
            entered.set()
            gate.wait(10)  # hold the first batch until the others have queued
        return rows[:, 0] * 10

    batcher = Batcher(score)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(batcher.submit, ["1"], _rows(["1"]))
        assert entered.wait(10)
        rest = [pool.submit(batcher.submit, [str(i), str(i + 10)], _rows([str(i), str(i + 10)]))
                for i in range(2, 6)]
        while len(batcher._queue) < 4:  # white-box: wait until all have queued
            threading.Event().wait(0.01)
        gate.set()
        assert first.result().tolist() == [10.0]
        for i, f in zip(range(2, 6), rest, strict=True):
            assert f.result().tolist() == [i * 10.0, (i + 10) * 10.0]
    assert len(calls) == 2  # the lone first request, then one batch of the four queued
    assert sorted(calls[1]) == sorted(str(i) for j in range(2, 6) for i in (j, j + 10))


def test_a_failing_batch_is_retried_alone() -> None:
    gate, entered = threading.Event(), threading.Event()
    first_call = True

    def score(ids: list[str], rows: np.ndarray) -> np.ndarray:
        nonlocal first_call
        if first_call:
            first_call = False
            entered.set()
            gate.wait(10)
        if "bad" in ids:
            raise NotFoundError("IDs not found", missing=1)
        return np.ones(len(ids))

    batcher = Batcher(score)
    with ThreadPoolExecutor(4) as pool:
        lead = pool.submit(batcher.submit, ["a"], np.zeros((1, 1)))
        assert entered.wait(10)
        good = pool.submit(batcher.submit, ["b"], np.zeros((1, 1)))
        bad = pool.submit(batcher.submit, ["bad"], np.zeros((1, 1)))
        while len(batcher._queue) < 2:
            threading.Event().wait(0.01)
        gate.set()
        assert lead.result().tolist() == [1.0]
        assert good.result().tolist() == [1.0]
        with pytest.raises(NotFoundError):
            bad.result()
