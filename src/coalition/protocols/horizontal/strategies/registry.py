"""Build a strategy from a name and keyword arguments (component and DAG parameters)."""

from __future__ import annotations

from typing import Any, Literal

from coalition.core import ConfigError
from coalition.protocols.horizontal.strategies.base import Strategy
from coalition.protocols.horizontal.strategies.fedavg import FedAvg, FedProx
from coalition.protocols.horizontal.strategies.fedopt import FedAdagrad, FedAdam, FedYogi
from coalition.protocols.horizontal.strategies.robust import CoordinateMedian, Krum, TrimmedMean

__all__ = ["STRATEGIES", "StrategyName", "make_strategy"]

#: The strategies by name, for parameter models (checked at validation, not at the first
#: round); a test keeps it equal to the keys of :data:`STRATEGIES`.
StrategyName = Literal["fedavg", "fedprox", "fedadam", "fedyogi", "fedadagrad", "median",
                       "trimmed_mean", "krum"]

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (FedAvg, FedProx, FedAdam, FedYogi, FedAdagrad, CoordinateMedian, TrimmedMean, Krum)
}


def make_strategy(name: str, **kwargs: Any) -> Strategy:
    """``make_strategy("fedadam", eta=0.05)`` and so on; :class:`ConfigError` if unknown."""
    cls = STRATEGIES.get(name)
    if cls is None:
        raise ConfigError("unknown strategy", name=name, known=sorted(STRATEGIES))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError("bad arguments for strategy", name=name, reason=str(exc)) from exc
