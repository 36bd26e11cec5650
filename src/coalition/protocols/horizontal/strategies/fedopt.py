"""Adaptive server optimisers FedAdagrad, FedAdam and FedYogi (Reddi et al. ICLR 2021, Alg. 2).

The weighted mean of client updates is treated as a pseudo-gradient ``Δ``:
``m ← β1·m + (1−β1)·Δ``; ``v`` is updated per optimiser; ``x ← x + η·m / (√v + τ)``.
The moment vectors are state of the strategy object (it does no I/O).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from coalition.core import ConfigError, ProtocolError
from coalition.protocols.horizontal.strategies.base import Strategy
from coalition.protocols.horizontal.weights import Vector

__all__ = ["FedAdagrad", "FedAdam", "FedOpt", "FedYogi"]


class FedOpt(Strategy):
    """Shared moment bookkeeping; subclasses define the second-moment update."""

    name: ClassVar[str] = "fedopt"

    def __init__(self, eta: float = 0.1, beta1: float = 0.9, beta2: float = 0.99,
                 tau: float = 1e-3, proximal_mu: float = 0.0) -> None:
        if eta <= 0 or tau <= 0 or not (0 <= beta1 < 1) or not (0 <= beta2 < 1):
            raise ConfigError("need eta > 0, tau > 0 and betas in [0, 1)", eta=eta, tau=tau,
                              beta1=beta1, beta2=beta2)
        super().__init__(server_lr=eta, proximal_mu=proximal_mu)
        self.eta, self.beta1, self.beta2, self.tau = eta, beta1, beta2, tau
        self.m_: Vector | None = None
        self.v_: Vector | None = None

    def _second_moment(self, v: Vector, delta: Vector) -> Vector:
        raise NotImplementedError

    def apply(self, global_vec: Vector, update: Vector) -> Vector:
        """One adaptive server step."""
        if self.m_ is None or self.v_ is None:
            self.m_ = np.zeros_like(update)
            self.v_ = np.full_like(update, self.tau ** 2)
        if self.m_.shape != update.shape:
            raise ProtocolError("update size changed between rounds")
        self.m_ = self.beta1 * self.m_ + (1.0 - self.beta1) * update
        self.v_ = self._second_moment(self.v_, update)
        out: Vector = global_vec + self.eta * self.m_ / (np.sqrt(self.v_) + self.tau)
        return out


class FedAdagrad(FedOpt):
    """``v ← v + Δ²``."""

    name: ClassVar[str] = "fedadagrad"

    def _second_moment(self, v: Vector, delta: Vector) -> Vector:
        out: Vector = v + delta * delta
        return out


class FedAdam(FedOpt):
    """``v ← β2·v + (1−β2)·Δ²``."""

    name: ClassVar[str] = "fedadam"

    def _second_moment(self, v: Vector, delta: Vector) -> Vector:
        out: Vector = self.beta2 * v + (1.0 - self.beta2) * delta * delta
        return out


class FedYogi(FedOpt):
    """``v ← v − (1−β2)·Δ²·sign(v − Δ²)``."""

    name: ClassVar[str] = "fedyogi"

    def _second_moment(self, v: Vector, delta: Vector) -> Vector:
        d2 = delta * delta
        out: Vector = v - (1.0 - self.beta2) * d2 * np.sign(v - d2)
        return out
