"""Evaluation metrics computed locally by each client (numpy only, no extra imports)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["accuracy", "roc_auc"]


def accuracy(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    """Fraction of equal labels."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def roc_auc(y_true: NDArray[Any], score: NDArray[Any]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tied ranks averaged); ``None`` when
    ``y_true`` holds a single class."""
    pos = np.asarray(y_true).astype(bool)
    n_pos = int(pos.sum())
    n_neg = pos.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    s = np.asarray(score, dtype=np.float64)
    order = np.argsort(s, kind="mergesort")
    _, inverse, counts = np.unique(s[order], return_inverse=True, return_counts=True)
    avg_rank = np.cumsum(counts) - (counts - 1) / 2.0
    ranks = np.empty(s.size)
    ranks[order] = avg_rank[inverse]
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
