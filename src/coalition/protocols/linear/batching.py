"""Public mini-batch schedule: every party (and the dealer) derives the same row order.

Row indices of the aligned table are not sensitive (they say nothing about values), so the
schedule is a deterministic function of ``(n_rows, params.seed, epoch)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.protocols.linear.spec import LinearParams

__all__ = ["batches"]


def batches(n_rows: int, params: LinearParams, epoch: int) -> list[NDArray[np.int64]]:
    """Row index arrays of the mini-batches of ``epoch``."""
    order = np.arange(n_rows, dtype=np.int64)
    if params.shuffle:
        order = np.random.default_rng([params.seed, epoch]).permutation(n_rows)
    size = params.effective_batch(n_rows)
    return [order[i:i + size] for i in range(0, n_rows, size)]
