"""Optional row-level differential privacy of horizontal GBDT: distributed Gaussian noise on
every secure sum.

Each of the ``m`` clients adds ``N(0, (σΔ)²/m)`` to every entry of its vector *before*
masking, so every sum the aggregator unmasks carries ``N(0, (σΔ)²)`` per entry and nobody sees
an exact sum (distributed DP, as ``DPConfig(noise="client")`` of horizontal FL). ``Δ`` is the
L2 sensitivity of one step's sum to adding or removing one row (:func:`sensitivity`): in the
range step a row adds 1 to the row count, at most 1 to the positives and 1 to one cell per
feature; in the sketch step 1 to one cell per feature; in a histogram step it sits in one
open node and adds ``(g, h, 1)`` with ``|g| ≤ 1``, ``0 ≤ h ≤ 1/4`` to one bin per feature.
Each step is a Gaussian mechanism with multiplier ``σ`` (``σ·sqrt(k/m)`` when only ``k`` of
the ``m`` shares reached the sum); the steps compose under Rényi DP (Mironov 2017), accounted
with ``dp-accounting``'s RDP accountant, and the (ε, δ) of the whole training (row-level, add
or remove one row) is reported. Trees, edges and predictions are post-processing.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

__all__ = ["StepAccountant", "sensitivity"]


def sensitivity(kind: str, n_features: int) -> float:
    """L2 sensitivity of one step's sum to one row (see the module docstring)."""
    per_feature = {"range": 1.0, "sketch": 1.0, "hist": 1.0 + 1.0 / 16 + 1.0}[kind]
    extra = 2.0 if kind == "range" else 0.0
    return math.sqrt(extra + n_features * per_feature)


class StepAccountant:
    """RDP accountant over the Gaussian mechanisms of the steps."""

    def __init__(self, noise_multiplier: float, delta: float, clients: int) -> None:
        self.sigma, self.delta, self.clients = noise_multiplier, delta, clients
        self._dp: Any = importlib.import_module("dp_accounting")  # heavy: only with DP on
        self._accountant: Any = importlib.import_module("dp_accounting.rdp").RdpAccountant()

    def step(self, contributors: int) -> None:
        """Charge one secure sum that ``contributors`` noise shares reached."""
        sigma = self.sigma * math.sqrt(max(contributors, 1) / self.clients)
        self._accountant.compose(self._dp.GaussianDpEvent(sigma))

    def epsilon(self) -> float:
        """ε spent so far at ``delta``."""
        return float(self._accountant.get_epsilon(self.delta))
