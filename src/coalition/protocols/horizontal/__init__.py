"""Horizontal federated learning: parties with the same columns train one model.

Roles: one **aggregator** (the job's arbiter, :func:`run_aggregator`) and any number of
**clients** (every other party, :func:`run_client`). Each round the aggregator samples
``clients_per_round`` clients, sends the global weights to every client, waits at most
``client_timeout`` for answers, and applies the round's aggregate if at least ``min_clients``
updates arrived. Strategies (FedAvg, FedProx, FedAdam/FedYogi/FedAdagrad, median, trimmed mean,
(Multi-)Krum) are pure objects. Optional secure aggregation (Bonawitz et al. CCS 2017, SecAgg+
of Bell et al. CCS 2020) and client-level DP (McMahan et al. ICLR 2018).

Who learns what:

* **clients** learn the global model of every round and the final one; nothing about other
  clients' data or updates beyond what the global model reveals;
* **the aggregator** learns every client's validation metrics and row counts; in plain mode
  also each sampled client's update and training row count; with SecAgg only the *sum* of the
  weighted updates and weights of the clients that finished the round;
* **nobody** receives a raw row or label; with DP the global model is (ε, δ)-DP per client.
"""

from coalition.protocols.horizontal.aggregator import average_metrics, run_aggregator
from coalition.protocols.horizontal.artifact import GlobalModel, RoundRecord
from coalition.protocols.horizontal.client import ClientResult, run_client
from coalition.protocols.horizontal.dp import PrivacyAccountant
from coalition.protocols.horizontal.spec import (
    DPConfig,
    HorizontalJobParams,
    HorizontalParams,
    LocalData,
    SecAggConfig,
    TrainingParams,
)
from coalition.protocols.horizontal.weights import ParamLayout, Weights

__all__ = [
    "ClientResult",
    "DPConfig",
    "GlobalModel",
    "HorizontalJobParams",
    "HorizontalParams",
    "LocalData",
    "ParamLayout",
    "PrivacyAccountant",
    "RoundRecord",
    "SecAggConfig",
    "TrainingParams",
    "Weights",
    "average_metrics",
    "run_aggregator",
    "run_client",
]
