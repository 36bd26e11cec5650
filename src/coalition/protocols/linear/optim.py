"""Optimisers and regularisation, on plaintext weights (HE variants) or on shares (SS).

The SS variant supports only updates linear in the gradient (SGD, momentum, Nesterov, L2):
they are public-constant multiplications of shares, exact up to truncation. Adam and RMSprop
need a secure square root and division, so :class:`~coalition.protocols.linear.spec.LinearParams`
refuses them for ``protocol: ss``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.protocols.linear.fixedpoint import Ring, mul_public
from coalition.protocols.linear.spec import LinearParams

__all__ = ["PlainOptimizer", "SharedOptimizer"]

FloatArray = NDArray[np.float64]


class PlainOptimizer:
    """Updates a plaintext weight vector from its (unmasked) gradient.

    ``reg_mask`` is 1 for penalised coordinates and 0 for the intercept.
    """

    def __init__(self, params: LinearParams, reg_mask: FloatArray) -> None:
        self.p = params
        self.reg_mask = reg_mask
        self.m = np.zeros_like(reg_mask)
        self.v = np.zeros_like(reg_mask)
        self.t = 0

    def regularised(self, w: FloatArray, grad: FloatArray) -> FloatArray:
        """Add the penalty's (sub)gradient."""
        if self.p.penalty == "l2":
            return grad + self.p.alpha * self.reg_mask * w
        if self.p.penalty == "l1":
            return grad + self.p.alpha * self.reg_mask * np.sign(w)
        return grad

    def step(self, w: FloatArray, grad: FloatArray, lr: float) -> FloatArray:
        """New weights after one step."""
        p, g = self.p, self.regularised(w, grad)
        self.t += 1
        if p.optimizer == "sgd":
            return w - lr * g
        if p.optimizer in ("momentum", "nesterov"):
            self.m = p.momentum * self.m + g
            return w - lr * (g + p.momentum * self.m if p.optimizer == "nesterov" else self.m)
        self.v = p.beta2 * self.v + (1 - p.beta2) * g * g
        if p.optimizer == "rmsprop":
            return w - lr * g / (np.sqrt(self.v) + p.epsilon)
        self.m = p.momentum * self.m + (1 - p.momentum) * g
        m_hat = self.m / (1 - p.momentum**self.t)
        v_hat = self.v / (1 - p.beta2**self.t)
        return w - lr * m_hat / (np.sqrt(v_hat) + p.epsilon)


class SharedOptimizer:
    """The same linear updates on one party's additive shares (party index 0 or 1)."""

    def __init__(self, params: LinearParams, reg_mask: FloatArray, party: int) -> None:
        self.p = params
        self.reg = params.alpha * reg_mask if params.penalty == "l2" else None
        self.party = party
        self.m: Ring = np.zeros(reg_mask.shape, dtype=np.uint64)

    def step(self, w: Ring, grad_sum: Ring, batch_rows: int, lr: float) -> Ring:
        """New weight share; ``grad_sum`` is the share of ``X_B^T d`` (not yet averaged)."""
        p, i = self.p, self.party
        g = mul_public(grad_sum, 1.0 / batch_rows, i)
        if self.reg is not None:
            g = g + mul_public(w, self.reg, i)
        if p.optimizer == "sgd":
            return w - mul_public(g, lr, i)
        self.m = mul_public(self.m, p.momentum, i) + g
        if p.optimizer == "nesterov":
            return w - mul_public(g + mul_public(self.m, p.momentum, i), lr, i)
        return w - mul_public(self.m, lr, i)
