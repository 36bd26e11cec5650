"""FedAvg (McMahan et al. AISTATS 2017) and FedProx (Li et al. MLSys 2020).

FedProx differs from FedAvg only on the client: the local objective gains ``μ/2·‖w − w_t‖²``,
which the client trainer applies with the ``proximal_mu`` the aggregator sends each round.
"""

from __future__ import annotations

from typing import ClassVar

from coalition.core import ConfigError
from coalition.protocols.horizontal.strategies.base import Strategy

__all__ = ["FedAvg", "FedProx"]


class FedAvg(Strategy):
    """Mean of client updates weighted by their training sample counts."""

    name: ClassVar[str] = "fedavg"

    def __init__(self, server_lr: float = 1.0) -> None:
        super().__init__(server_lr=server_lr)


class FedProx(Strategy):
    """FedAvg aggregation with a proximal term ``mu`` applied by every client."""

    name: ClassVar[str] = "fedprox"

    def __init__(self, mu: float = 0.01, server_lr: float = 1.0) -> None:
        if mu <= 0:
            raise ConfigError("FedProx needs mu > 0", mu=mu)
        super().__init__(server_lr=server_lr, proximal_mu=mu)
