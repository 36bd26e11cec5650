"""The same split network trained centrally on the joined table: the quality reference.

Identical layers, initialisation, schedule, loss and SGD-with-momentum as the federated roles,
with ``W_h`` an ordinary matrix, under the same ``backend``: what the federated model is measured against in the tests and
``benchmarks/models.py`` (``models.hetero_nn.*``'s ``baseline``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.protocols.splitnn.backend import new_bottom, new_head
from coalition.protocols.splitnn.network import (
    Standardizer,
    batches,
    interactive_init,
    loss_grad,
    secret_rng,
    step_sgd,
)
from coalition.protocols.splitnn.spec import HeteroNNParams

__all__ = ["CentralSplitNN"]

F64 = NDArray[np.float64]


class CentralSplitNN:
    """Guest bottom, host bottom, interactive layer and top on one machine."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)

    def fit(self, x_guest: F64, x_host: F64, y: F64) -> CentralSplitNN:
        """Train on the joined rows."""
        p, rng = self.params, secret_rng()
        d, k = p.bottom_width, p.interactive_units
        self.sg, self.sh = Standardizer.fit(x_guest), Standardizer.fit(x_host)
        xg, xh = self.sg(x_guest), self.sh(x_host)
        self.shift, self.scale = (0.0, 1.0) if p.task == "binary" else (
            float(y.mean()), float(y.std()) or 1.0)
        labels = (y - self.shift) / self.scale
        self.bg = new_bottom(p, xg.shape[1], rng)
        self.bh = new_bottom(p, xh.shape[1], rng)
        self.head = new_head(p, rng)
        self.w_host = interactive_init(rng, d, k, share=0.5) + interactive_init(rng, d, k, share=0.5)
        velocity: list[F64] = []
        for epoch in range(p.epochs):
            for idx in batches(len(y), p, epoch):
                ag, acts_g = self.bg.forward(xg[idx])
                ah, acts_h = self.bh.forward(xh[idx])
                out, cache = self.head.forward(ag, ah @ self.w_host)
                _, d_out = loss_grad(p.task, out, labels[idx])
                delta, d_ag, head_grads, top_grads = self.head.backward(cache, d_out)
                d_ah = delta @ self.w_host.T
                step = p.learning_rate / len(idx)
                step_sgd([self.w_host], velocity, [ah.T @ delta], step, p.momentum)
                self.head.step(head_grads, top_grads, step, p.momentum)
                self.bg.step(self.bg.backward(acts_g, d_ag)[0], step, p.momentum)
                self.bh.step(self.bh.backward(acts_h, d_ah)[0], step, p.momentum)
        return self

    def predict(self, x_guest: F64, x_host: F64) -> F64:
        """Probabilities (binary) or predictions (regression)."""
        ag, _ = self.bg.forward(self.sg(x_guest))
        ah, _ = self.bh.forward(self.sh(x_host))
        out, _ = self.head.forward(ag, ah @ self.w_host)
        if self.params.task == "binary":
            result: F64 = 1.0 / (1.0 + np.exp(-np.clip(out, -35, 35)))
            return result
        return out * self.scale + self.shift
