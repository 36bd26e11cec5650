"""The same split network trained centrally on the joined table: the quality reference.

Identical layers, initialisation, schedule, loss and SGD-with-momentum as the federated roles,
with ``W_h`` an ordinary matrix, under the same ``backend``: what the federated model is measured against in the tests and
``benchmarks/models.py`` (``models.hetero_nn.*``'s ``baseline``).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    """Guest bottom, host bottoms (one or several hosts), interactive layer and top on one
    machine; ``w_host`` holds each host's ``W_h``."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)

    def fit(self, x_guest: F64, x_hosts: F64 | Sequence[F64], y: F64) -> CentralSplitNN:
        """Train on the joined rows: the guest's columns, one host's or a list of hosts'."""
        p, rng = self.params, secret_rng()
        d, k = p.bottom_width, p.interactive_units
        hosts = _as_list(x_hosts)
        parties = len(hosts) + 1
        self.sg = Standardizer.fit(x_guest)
        self.sh = [Standardizer.fit(x) for x in hosts]
        xg, xh = self.sg(x_guest), [s(x) for s, x in zip(self.sh, hosts, strict=True)]
        self.shift, self.scale = (0.0, 1.0) if p.task == "binary" else (
            float(y.mean()), float(y.std()) or 1.0)
        labels = (y - self.shift) / self.scale
        self.bg = new_bottom(p, xg.shape[1], rng)
        self.bh = [new_bottom(p, x.shape[1], rng) for x in xh]
        self.head = new_head(p, rng, parties)
        self.w_host = [interactive_init(rng, d, k, share=0.5, parties=parties)
                       + interactive_init(rng, d, k, share=0.5, parties=parties) for _ in xh]
        velocity: list[F64] = []
        for epoch in range(p.epochs):
            for idx in batches(len(y), p, epoch):
                ag, acts_g = self.bg.forward(xg[idx])
                host_out = [b.forward(x[idx]) for b, x in zip(self.bh, xh, strict=True)]
                z_hosts = sum((a @ w for (a, _), w in zip(host_out, self.w_host, strict=True)),
                              np.zeros((len(idx), k)))
                out, cache = self.head.forward(ag, z_hosts)
                _, d_out = loss_grad(p.task, out, labels[idx])
                delta, d_ag, head_grads, top_grads = self.head.backward(cache, d_out)
                d_hosts = [delta @ w.T for w in self.w_host]  # before W_h steps in place
                step = p.learning_rate / len(idx)
                step_sgd(self.w_host, velocity, [a.T @ delta for a, _ in host_out], step,
                         p.momentum)
                self.head.step(head_grads, top_grads, step, p.momentum)
                self.bg.step(self.bg.backward(acts_g, d_ag)[0], step, p.momentum)
                for b, (_, acts), d_h in zip(self.bh, host_out, d_hosts, strict=True):
                    b.step(b.backward(acts, d_h)[0], step, p.momentum)
        return self

    def predict(self, x_guest: F64, x_hosts: F64 | Sequence[F64]) -> F64:
        """Probabilities (binary) or predictions (regression)."""
        ag, _ = self.bg.forward(self.sg(x_guest))
        z_hosts = sum((b.forward(s(x))[0] @ w for b, s, x, w in zip(
            self.bh, self.sh, _as_list(x_hosts), self.w_host, strict=True)),
            np.zeros((len(x_guest), self.params.interactive_units)))
        out, _ = self.head.forward(ag, z_hosts)
        if self.params.task == "binary":
            result: F64 = 1.0 / (1.0 + np.exp(-np.clip(out, -35, 35)))
            return result
        return out * self.scale + self.shift


def _as_list(x_hosts: F64 | Sequence[F64]) -> list[F64]:
    return [x_hosts] if isinstance(x_hosts, np.ndarray) else list(x_hosts)
