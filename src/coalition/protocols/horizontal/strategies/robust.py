"""Byzantine-robust aggregators: coordinate-wise median and trimmed mean (Yin et al. ICML 2018),
Krum and Multi-Krum (Blanchard et al. NeurIPS 2017).

All three ignore sample-count weights (a malicious client could inflate its count) and need each
client's update in the clear, so they cannot run under SecAgg.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError
from coalition.protocols.horizontal.strategies.base import Strategy, check_updates
from coalition.protocols.horizontal.weights import Vector

__all__ = ["CoordinateMedian", "Krum", "TrimmedMean"]


class CoordinateMedian(Strategy):
    """Median of each coordinate over the clients."""

    name: ClassVar[str] = "median"
    secure_aggregatable: ClassVar[bool] = False

    def combine(self, updates: NDArray[np.float64], weights: NDArray[np.float64]) -> Vector:
        """Coordinate-wise median."""
        check_updates(updates, weights)
        out: Vector = np.median(updates, axis=0)
        return out


class TrimmedMean(Strategy):
    """Per coordinate, drop the ``beta`` fraction largest and smallest values and average."""

    name: ClassVar[str] = "trimmed_mean"
    secure_aggregatable: ClassVar[bool] = False

    def __init__(self, beta: float = 0.2, server_lr: float = 1.0) -> None:
        if not 0.0 <= beta < 0.5:
            raise ConfigError("trimmed mean needs 0 <= beta < 0.5", beta=beta)
        super().__init__(server_lr=server_lr)
        self.beta = beta

    def combine(self, updates: NDArray[np.float64], weights: NDArray[np.float64]) -> Vector:
        """Coordinate-wise trimmed mean."""
        check_updates(updates, weights)
        m = updates.shape[0]
        k = math.floor(self.beta * m)
        if 2 * k >= m:
            k = (m - 1) // 2
        ordered = np.sort(updates, axis=0)
        out: Vector = ordered[k:m - k].mean(axis=0)
        return out


class Krum(Strategy):
    """Krum (``multi=1``) or Multi-Krum: average the ``multi`` updates whose summed squared
    distance to their ``m − f − 2`` nearest neighbours is smallest, for ``f`` Byzantine clients."""

    name: ClassVar[str] = "krum"
    secure_aggregatable: ClassVar[bool] = False

    def __init__(self, num_byzantine: int = 1, multi: int = 1, server_lr: float = 1.0) -> None:
        if num_byzantine < 0 or multi < 1:
            raise ConfigError("krum needs num_byzantine >= 0 and multi >= 1",
                              num_byzantine=num_byzantine, multi=multi)
        super().__init__(server_lr=server_lr)
        self.num_byzantine, self.multi = num_byzantine, multi

    def scores(self, updates: NDArray[np.float64]) -> NDArray[np.float64]:
        """Krum score of each update (lower is more central)."""
        m = updates.shape[0]
        sq = np.sum(updates * updates, axis=1)
        dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * updates @ updates.T, 0.0)
        np.fill_diagonal(dist, np.inf)
        closest = max(1, min(m - 1, m - self.num_byzantine - 2))
        out: NDArray[np.float64] = np.sort(dist, axis=1)[:, :closest].sum(axis=1)
        return out

    def combine(self, updates: NDArray[np.float64], weights: NDArray[np.float64]) -> Vector:
        """Mean of the ``multi`` best-scored updates."""
        check_updates(updates, weights)
        if updates.shape[0] == 1:
            single: Vector = updates[0].copy()
            return single
        chosen = np.argsort(self.scores(updates), kind="stable")[:min(self.multi, updates.shape[0])]
        out: Vector = updates[chosen].mean(axis=0)
        return out
