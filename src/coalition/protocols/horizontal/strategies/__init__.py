"""Aggregation strategies as pure objects: FedAvg, FedProx, FedAdam/FedYogi/FedAdagrad, and the
robust coordinate-wise median, trimmed mean and (Multi-)Krum."""

from coalition.protocols.horizontal.strategies.base import Strategy
from coalition.protocols.horizontal.strategies.fedavg import FedAvg, FedProx
from coalition.protocols.horizontal.strategies.fedopt import FedAdagrad, FedAdam, FedOpt, FedYogi
from coalition.protocols.horizontal.strategies.registry import (
    STRATEGIES,
    StrategyName,
    make_strategy,
)
from coalition.protocols.horizontal.strategies.robust import CoordinateMedian, Krum, TrimmedMean

__all__ = [
    "STRATEGIES",
    "StrategyName",
    "CoordinateMedian",
    "FedAdagrad",
    "FedAdam",
    "FedAvg",
    "FedOpt",
    "FedProx",
    "FedYogi",
    "Krum",
    "Strategy",
    "TrimmedMean",
    "make_strategy",
]
