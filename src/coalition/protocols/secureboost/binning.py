"""Per-feature quantile binning, run locally by every party on its own columns.

Thresholds follow the quantile sketch of LightGBM / scikit-learn's ``HistGradientBoosting``:
with at most ``max_bin`` distinct values the edges are midpoints between them, otherwise the
``max_bin - 1`` inner quantiles of (a sample of at most ``sketch_rows``) non-missing values.
Bin ``b`` holds ``edges[b-1] < x <= edges[b]``; NaN goes to the dedicated bin ``max_bin``,
so a split can learn where missing values go. Thresholds never leave the party.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coalition.core import InputError

__all__ = ["BinMapper"]

_SKETCH_ROWS = 200_000


@dataclass
class BinMapper:
    """Learned bin edges per feature; ``missing_bin`` is the index reserved for NaN."""

    edges: list[np.ndarray[Any, np.dtype[np.float64]]]
    max_bin: int

    @property
    def missing_bin(self) -> int:
        """Index of the NaN bin (the same for every feature)."""
        return self.max_bin

    @property
    def n_features(self) -> int:
        """Number of features binned."""
        return len(self.edges)

    def n_bins(self, feature: int) -> int:
        """Non-missing bins of ``feature``."""
        return len(self.edges[feature]) + 1

    @classmethod
    def fit(cls, X: np.ndarray[Any, Any], max_bin: int, *, seed: int = 0) -> BinMapper:
        """Learn edges for every column of ``X`` (NaN allowed, inf refused)."""
        X = _check(X)
        rng = np.random.default_rng(seed)
        edges = []
        for j in range(X.shape[1]):
            col = X[:, j]
            col = col[~np.isnan(col)]
            if col.size > _SKETCH_ROWS:
                col = rng.choice(col, _SKETCH_ROWS, replace=False)
            edges.append(_edges(col, max_bin))
        return cls(edges, max_bin)

    def transform(self, X: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
        """Bin index per cell, ``uint8`` of the same shape; NaN maps to :attr:`missing_bin`."""
        X = _check(X)
        if X.shape[1] != self.n_features:
            raise InputError("feature count differs from the fitted binning",
                             expected=self.n_features, got=X.shape[1])
        out = np.empty(X.shape, dtype=np.uint8)
        for j, e in enumerate(self.edges):
            col = X[:, j]
            out[:, j] = np.searchsorted(e, col, side="left")
            out[np.isnan(col), j] = self.missing_bin
        return out

    def threshold(self, feature: int, bin_: int) -> float:
        """Raw value of the split ``x <= threshold`` that sends bins ``<= bin_`` left."""
        e = self.edges[feature]
        return float(e[bin_]) if bin_ < len(e) else float("inf")


def _edges(col: np.ndarray[Any, Any], max_bin: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    distinct = np.unique(col)
    if distinct.size <= max_bin:
        mids: np.ndarray[Any, np.dtype[np.float64]] = (
            (distinct[:-1] + distinct[1:]) / 2.0).astype(np.float64)
        return mids
    qs = np.linspace(0, 100, max_bin + 1)[1:-1]
    e: np.ndarray[Any, np.dtype[np.float64]] = np.unique(
        np.percentile(col, qs, method="midpoint")).astype(np.float64)
    return e


def _check(X: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError("features must be a 2-D array", ndim=X.ndim)
    if np.isinf(X).any():
        raise InputError("features contain infinite values")
    return X
