"""Parameters, message keys and payload shapes of horizontal federated learning.

Message flow of one round ``r`` (namespace ``round/r``)::

    aggregator → every client   ROUND   {"task": "fit" | "evaluate", "weights": {name: array},
                                         "proximal_mu": float, "secagg": {"peers": ...}}
    client → aggregator         REPLY   {"metrics": {name: float}, "num_val": int,
                                         "update": {name: array}, "num_samples": int,
                                         "secagg": {"m_pk": bytes, "masked": uint64 array}}
                                        ("update"/"num_samples" only for "fit" without SecAgg;
                                         "secagg" only with it, "masked" only for "fit")

With SecAgg the clients publish a mask key once (``secagg_setup``), and a round whose masked
inputs are not all there is re-run by the full protocol under ``round/r/fallback``; the next
instruction is then preceded by ``{"fallback": bool}`` and sent under ``<namespace>/resumed``
(see :mod:`coalition.protocols.horizontal.secagg.session`).

and after the last round ``FINAL`` (the final global weights) and ``FINAL_REPORT`` (each client's
validation metrics of that model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, InputError, MessageKey

__all__ = [
    "FINAL",
    "FINAL_REPORT",
    "REPLY",
    "ROUND",
    "DPConfig",
    "HorizontalParams",
    "LocalData",
    "SecAggConfig",
]

ROUND = MessageKey("round", "aggregator → client: task of this round and the global weights")
REPLY = MessageKey("reply", "client → aggregator: validation metrics and, for a plain fit, the update")
FINAL = MessageKey("final", "aggregator → client: the final global weights")
FINAL_REPORT = MessageKey("final_report", "client → aggregator: validation metrics of the final model")

TASK_FIT = "fit"
TASK_EVALUATE = "evaluate"


@dataclass(frozen=True)
class SecAggConfig:
    """Secure aggregation (Bonawitz et al. 2017; SecAgg+ of Bell et al. 2020 when ``neighbours``).

    ``neighbours=None`` masks every pair of sampled clients (complete graph, SecAgg);
    an even ``neighbours=k`` uses a random k-regular Harary graph (SecAgg+), so each client does
    O(k) key agreements and sends O(k) shares. A client's mask seeds are split ``threshold``-of-
    ``size`` among itself and its neighbours, where ``threshold = floor(threshold_fraction * size) + 1``.
    Updates are fixed-point numbers with ``frac_bits`` fractional bits, summed modulo
    ``2**modulus_bits``.
    """

    neighbours: int | None = None
    threshold_fraction: float = 0.5
    modulus_bits: int = 64
    frac_bits: int = 24

    def __post_init__(self) -> None:
        if self.neighbours is not None and (self.neighbours < 2 or self.neighbours % 2):
            raise ConfigError("secagg neighbours must be an even number >= 2",
                              neighbours=self.neighbours)
        if not 0.0 < self.threshold_fraction < 1.0:
            raise ConfigError("secagg threshold_fraction must be in (0, 1)",
                              threshold_fraction=self.threshold_fraction)
        if not 16 <= self.modulus_bits <= 64:
            raise ConfigError("secagg modulus_bits must be in 16..64", modulus_bits=self.modulus_bits)
        if not 0 < self.frac_bits < self.modulus_bits - 8:
            raise ConfigError("secagg frac_bits must leave room for the integer part",
                              frac_bits=self.frac_bits, modulus_bits=self.modulus_bits)


@dataclass(frozen=True)
class DPConfig:
    """Client-level differential privacy (DP-FedAvg, McMahan et al. ICLR 2018).

    Every sampled client clips its model update to L2 norm ``clip_norm``; Gaussian noise of
    standard deviation ``noise_multiplier * clip_norm`` is added to the *sum* of updates, either
    by the aggregator (``noise="server"``, trusted aggregator) or split over the clients
    (``noise="client"``: each adds ``N(0, (σC)²/m)`` for ``m`` sampled clients, which composes with
    SecAgg so nobody sees an un-noised sum). Updates are averaged with equal weights (sample
    counts would break the sensitivity bound). The budget spent is tracked with an RDP
    accountant and reported as ``epsilon`` at ``delta`` after every round.
    """

    clip_norm: float
    noise_multiplier: float
    delta: float = 1e-5
    noise: Literal["client", "server"] = "client"

    def __post_init__(self) -> None:
        if self.clip_norm <= 0 or self.noise_multiplier < 0:
            raise ConfigError("dp needs clip_norm > 0 and noise_multiplier >= 0",
                              clip_norm=self.clip_norm, noise_multiplier=self.noise_multiplier)
        if not 0.0 < self.delta < 1.0:
            raise ConfigError("dp delta must be in (0, 1)", delta=self.delta)
        if self.noise not in ("client", "server"):
            raise ConfigError("dp noise must be 'client' or 'server'", noise=self.noise)


@dataclass(frozen=True)
class HorizontalParams:
    """Parameters shared by the aggregator and every client of one training job.

    ``clients_per_round`` clients (all when ``None``) are sampled each round; the aggregator
    waits at most ``client_timeout`` seconds for the answers of each step of a round, drops the
    clients that did not answer in time from that round, and applies the round only when at least
    ``min_clients`` updates arrived (otherwise the global model is left unchanged for that round).
    """

    rounds: int = 10
    local_epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 0.1
    clients_per_round: int | None = None
    min_clients: int = 1
    client_timeout: float = 60.0
    seed: int = 0
    secagg: SecAggConfig | None = None
    dp: DPConfig | None = None

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.local_epochs < 1 or self.batch_size < 1:
            raise ConfigError("rounds, local_epochs and batch_size must be >= 1",
                              rounds=self.rounds, local_epochs=self.local_epochs,
                              batch_size=self.batch_size)
        if self.learning_rate <= 0:
            raise ConfigError("learning_rate must be > 0", learning_rate=self.learning_rate)
        if self.clients_per_round is not None and self.clients_per_round < 1:
            raise ConfigError("clients_per_round must be >= 1",
                              clients_per_round=self.clients_per_round)
        if self.min_clients < 1:
            raise ConfigError("min_clients must be >= 1", min_clients=self.min_clients)
        if self.client_timeout <= 0:
            raise ConfigError("client_timeout must be > 0", client_timeout=self.client_timeout)



@dataclass(frozen=True)
class LocalData:
    """One client's rows: training set and optional validation set (never leaves the client)."""

    x: NDArray[Any]
    y: NDArray[Any]
    x_val: NDArray[Any] | None = None
    y_val: NDArray[Any] | None = None

    def __post_init__(self) -> None:
        _check_xy(self.x, self.y, "training")
        if (self.x_val is None) != (self.y_val is None):
            raise InputError("validation needs both x_val and y_val")
        if self.x_val is not None and self.y_val is not None:
            _check_xy(self.x_val, self.y_val, "validation")
            if self.x_val.shape[1:] != self.x.shape[1:]:
                raise InputError("validation columns differ from training columns",
                                 train=self.x.shape[1:], val=self.x_val.shape[1:])

    @property
    def num_samples(self) -> int:
        """Training rows."""
        return int(self.x.shape[0])

    @property
    def num_val(self) -> int:
        """Validation rows (0 without a validation set)."""
        return 0 if self.x_val is None else int(self.x_val.shape[0])


def _check_xy(x: NDArray[Any], y: NDArray[Any], what: str) -> None:
    if x.ndim < 2 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise InputError(f"{what} data must be a non-empty 2-d x and 1-d y of the same length",
                         x_shape=x.shape, y_shape=y.shape)
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise InputError(f"{what} features contain NaN or infinity")
