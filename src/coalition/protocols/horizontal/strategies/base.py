"""The strategy interface: how the aggregator turns client updates into a new global model.

A strategy is a pure object (no I/O): ``combine`` reduces the clients' update vectors
(``w_client − w_global``) to one update, ``apply`` moves the global model with it. Strategies
whose ``combine`` is the weighted mean (``secure_aggregatable``) work with SecAgg, where the
aggregator only ever holds the sum of the weighted updates; robust aggregators need each update
in the clear and refuse SecAgg.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, InputError
from coalition.protocols.horizontal.weights import Vector

__all__ = ["Strategy", "check_updates"]


def check_updates(updates: NDArray[np.float64], weights: NDArray[np.float64]) -> None:
    """Shapes: ``updates`` is (m, d) with m >= 1, ``weights`` is (m,) positive."""
    if updates.ndim != 2 or updates.shape[0] < 1 or weights.shape != (updates.shape[0],):
        raise InputError("need an (m, d) update matrix and m weights",
                         updates=updates.shape, weights=weights.shape)
    if (weights <= 0).any():
        raise InputError("update weights must be positive")


class Strategy:
    """FedAvg behaviour (weighted mean, step of size ``server_lr``); subclasses override."""

    name: ClassVar[str] = "fedavg"
    secure_aggregatable: ClassVar[bool] = True

    def __init__(self, server_lr: float = 1.0, proximal_mu: float = 0.0) -> None:
        if server_lr <= 0 or proximal_mu < 0:
            raise ConfigError("server_lr must be > 0 and proximal_mu >= 0",
                              server_lr=server_lr, proximal_mu=proximal_mu)
        self.server_lr = server_lr
        self.proximal_mu = proximal_mu

    def combine(self, updates: NDArray[np.float64], weights: NDArray[np.float64]) -> Vector:
        """Weighted mean of the rows of ``updates``."""
        check_updates(updates, weights)
        out: Vector = weights @ updates / weights.sum()
        return out

    def apply(self, global_vec: Vector, update: Vector) -> Vector:
        """The next global model."""
        out: Vector = global_vec + self.server_lr * update
        return out
