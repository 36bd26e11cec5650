"""Client-level differential privacy for federated averaging (DP-FedAvg, McMahan et al. 2018).

Mechanism per round: every sampled client clips its update to L2 norm ``C``; Gaussian noise
``N(0, σ²C²)`` is added to the sum of clipped updates (by the aggregator, or in equal parts by
the clients so SecAgg composes), and the sum is divided by the number of contributions. The
privacy loss is accounted with the Rényi-DP accountant of Google's ``dp-accounting`` library
(Mironov 2017; Mironov, Talwar, Zhang 2019), treating the fixed-size sample of ``m`` out of
``N`` clients as Poisson sampling with rate ``q = m/N`` — the usual approximation in the DP-FL
literature; the reported ε is for client-level adjacency (adding or removing one client's data).

Noise comes from a numpy PCG64 generator seeded from :mod:`secrets` (fresh per call site).
"""

from __future__ import annotations

import importlib
import math
import secrets

import numpy as np

from coalition.core import ConfigError
from coalition.protocols.horizontal.spec import DPConfig
from coalition.protocols.horizontal.weights import Vector

__all__ = ["PrivacyAccountant", "clip", "gaussian_noise"]


def clip(update: Vector, clip_norm: float) -> Vector:
    """``update`` scaled down to L2 norm at most ``clip_norm``."""
    norm = float(np.linalg.norm(update))
    if norm <= clip_norm or norm == 0.0:
        return update.copy()
    out: Vector = update * (clip_norm / norm)
    return out


def gaussian_noise(size: int, std: float) -> Vector:
    """``N(0, std²)`` noise of ``size`` coordinates from a secrets-seeded generator."""
    rng = np.random.Generator(np.random.PCG64(secrets.randbits(128)))
    out: Vector = rng.normal(0.0, std, size)
    return out


class PrivacyAccountant:
    """Tracks ε after each round of the sampled Gaussian mechanism (RDP accountant)."""

    def __init__(self, config: DPConfig, sample_size: int, population: int) -> None:
        if not 1 <= sample_size <= population:
            raise ConfigError("sample size must be between 1 and the number of clients",
                              sample_size=sample_size, population=population)
        # heavy import (scipy), paid only when DP is on
        self._dp = importlib.import_module("dp_accounting")
        self._accountant = importlib.import_module("dp_accounting.rdp").RdpAccountant()
        self.config = config
        self.sample_size = sample_size
        self.rate = sample_size / population
        self.rounds = 0
        self.unbounded = config.noise_multiplier == 0  # a round without noise: ε = ∞

    def step(self, contributors: int | None = None) -> float:
        """Account one more round; return ε spent so far at ``delta``.

        With ``noise="client"`` each of the ``sample_size`` sampled clients adds
        ``N(0, σ²C²/m)``; when only ``contributors`` of them reach the sum, the noise in it
        has standard deviation ``σC·sqrt(contributors/m)``, and that smaller multiplier is
        what this round is charged (never the nominal one)."""
        sigma = self.config.noise_multiplier
        if self.config.noise == "client" and contributors is not None:
            sigma *= math.sqrt(max(contributors, 0) / self.sample_size)
        if sigma <= 0:
            self.unbounded = True
        event = self._dp.PoissonSampledDpEvent(
            self.rate, self._dp.GaussianDpEvent(max(sigma, 1e-12)))
        self._accountant.compose(event)
        self.rounds += 1
        return self.epsilon()

    def epsilon(self) -> float:
        """ε spent so far (``inf`` without noise)."""
        if self.unbounded:
            return float("inf")
        return float(self._accountant.get_epsilon(self.config.delta))
