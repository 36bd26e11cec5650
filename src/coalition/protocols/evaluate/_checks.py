"""Input validation shared by the metric modules."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coalition.core.errors import InputError

__all__ = ["as_pair"]


def as_pair(y_true: ArrayLike, y_score: ArrayLike) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Validate two equally long, non-empty, finite 1-D arrays."""
    t = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if t.ndim != 1 or s.ndim != 1:
        raise InputError("labels and scores must be 1-D", labels_ndim=t.ndim, scores_ndim=s.ndim)
    if t.shape[0] != s.shape[0]:
        raise InputError("labels and scores differ in length", labels=t.shape[0],
                         scores=s.shape[0])
    if t.shape[0] == 0:
        raise InputError("cannot evaluate an empty set")
    if not np.all(np.isfinite(s)):
        raise InputError("scores contain NaN or infinity")
    return t, s
