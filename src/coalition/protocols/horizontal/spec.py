"""Parameters, message keys and payload shapes of horizontal federated learning.

Parameters follow the contract of :class:`coalition.core.Params`: :class:`TrainingParams`
(rounds, sampling, local training) is declared once; a job sets :class:`HorizontalJobParams`
(the components add only their model's shape), the roles run with :class:`HorizontalParams`.

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
from pydantic import Field, model_validator

from coalition.core import InputError, MessageKey, ParamConflict, Params
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "FINAL",
    "FINAL_REPORT",
    "REPLY",
    "ROUND",
    "ContributionConfig",
    "DPConfig",
    "HorizontalJobParams",
    "HorizontalParams",
    "LocalData",
    "SecAggConfig",
    "TrainingParams",
]

ROUND = MessageKey("round", "aggregator → client: task of this round and the global weights")
REPLY = MessageKey("reply", "client → aggregator: validation metrics and, for a plain fit, the update")
FINAL = MessageKey("final", "aggregator → client: the final global weights")
FINAL_REPORT = MessageKey("final_report", "client → aggregator: validation metrics of the final model")

TASK_FIT = "fit"
TASK_EVALUATE = "evaluate"


class SecAggConfig(Params):
    """Secure aggregation (Bonawitz et al. 2017; SecAgg+ of Bell et al. 2020 when ``neighbours``).

    ``neighbours=None`` masks every pair of sampled clients (complete graph, SecAgg);
    an even ``neighbours=k`` uses a random k-regular Harary graph (SecAgg+), so each client does
    O(k) key agreements and sends O(k) shares. A client's mask seeds are split ``threshold``-of-
    ``size`` among itself and its neighbours, where ``threshold = floor(threshold_fraction * size) + 1``.
    Updates are fixed-point numbers with ``frac_bits`` fractional bits, summed modulo
    ``2**modulus_bits``.
    """

    params_of = "secure aggregation"

    neighbours: int | None = Field(None, ge=2, description=(
        "even k: SecAgg+ over a k-regular graph; None: every pair of clients (SecAgg)"))
    threshold_fraction: float = Field(0.5, gt=0.0, lt=1.0,
                                      description="share of a client's neighbourhood needed "
                                                  "to recover its masks")
    modulus_bits: int = Field(64, ge=16, le=64, description="updates are summed mod 2**bits")
    frac_bits: int = Field(24, gt=0, description="fixed-point fractional bits of an update")
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of key agreement, KDF, share AEAD and mask PRG: standard "
        "(X25519, HKDF-SHA256, ChaCha20) or sm (SM2, HKDF-SM3, SM4); set by the federation"))

    @model_validator(mode="after")
    def _consistent(self) -> SecAggConfig:
        if self.neighbours is not None and self.neighbours % 2:
            raise ParamConflict("secagg neighbours must be an even number >= 2", "neighbours")
        if self.frac_bits >= self.modulus_bits - 8:
            raise ParamConflict("secagg frac_bits must leave room for the integer part",
                                "frac_bits", "modulus_bits")
        return self


class DPConfig(Params):
    """Client-level differential privacy (DP-FedAvg, McMahan et al. ICLR 2018).

    Every sampled client clips its model update to L2 norm ``clip_norm``; Gaussian noise of
    standard deviation ``noise_multiplier * clip_norm`` is added to the *sum* of updates, either
    by the aggregator (``noise="server"``, trusted aggregator) or split over the clients
    (``noise="client"``: each adds ``N(0, (σC)²/m)`` for ``m`` sampled clients, which composes with
    SecAgg so nobody sees an un-noised sum). Updates are averaged with equal weights (sample
    counts would break the sensitivity bound). The budget spent is tracked with an RDP
    accountant and reported as ``epsilon`` at ``delta`` after every round.
    """

    params_of = "differential privacy"

    clip_norm: float = Field(gt=0.0, description="L2 bound of each client's update")
    noise_multiplier: float = Field(ge=0.0, description="noise std / clip_norm")
    delta: float = Field(1e-5, gt=0.0, lt=1.0, description="delta of the reported (eps, delta)")
    noise: Literal["client", "server"] = Field("client", description=(
        "who adds the noise: split over the clients (needs SecAgg) or the aggregator"))


class ContributionConfig(Params):
    """Contribution measurement at the aggregator (GTG-Shapley and leave-one-out,
    :mod:`coalition.protocols.horizontal.contribution`): players are groups of ``group_size``
    clients (one client each when 1, allowed only without SecAgg)."""

    params_of = "contribution measurement"

    group_size: int = Field(1, ge=1, le=1000, description=(
        "clients per player; under SecAgg the aggregator learns each group's sum (at least 2)"))
    utility: Literal["loss", "accuracy"] = Field("loss", description=(
        "what a coalition's model is scored by on the aggregator's validation rows: the "
        "negative loss (smooth; the default) or the accuracy"))
    eps: float = Field(1e-3, ge=0.0, description="GTG-Shapley truncation threshold")
    max_permutations: int = Field(50, ge=1, le=10_000,
                                  description="GTG-Shapley permutations per round, at most")


class TrainingParams(Params):
    """Rounds, client sampling and local training: shared by the aggregator and every client.

    ``clients_per_round`` clients (all when ``None``) are sampled each round; the aggregator
    waits at most ``client_timeout`` seconds for the answers of each step of a round, drops the
    clients that did not answer in time from that round, and applies the round only when at least
    ``min_clients`` updates arrived (otherwise the global model is left unchanged for that round).
    """

    params_of = "horizontal FL"

    rounds: int = Field(10, ge=1, le=10_000, description="federated rounds")
    local_epochs: int = Field(1, ge=1, description="epochs each client trains per round")
    batch_size: int = Field(32, ge=1, description="rows per local mini-batch")
    learning_rate: float = Field(0.1, gt=0.0, description="local step size")
    clients_per_round: int | None = Field(None, ge=1,
                                          description="clients sampled per round (None: all)")
    min_clients: int = Field(1, ge=1, description="fewest updates that make a round count")
    client_timeout: float = Field(60.0, gt=0.0,
                                  description="seconds the aggregator waits per round step")
    seed: int = Field(0, ge=0, description="client sampling and local shuffling (public)")


class HorizontalParams(TrainingParams):
    """Everything the aggregator and the clients run with: :class:`TrainingParams`, and the
    settings of secure aggregation (``None``: the aggregator sees each update) and of
    differential privacy (``None``: none)."""

    secagg: SecAggConfig | None = Field(None, description="secure aggregation settings")
    dp: DPConfig | None = Field(None, description="differential privacy settings")
    contribution: ContributionConfig | None = Field(None, description=(
        "measure each client's contribution at the aggregator (None: not measured)"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the digests the aggregator records (each round's global model, the "
        "contribution inputs): SHA-256, or SM3 under sm; the job's"))


class HorizontalJobParams(TrainingParams):
    """What a job sets (``homo_lr``/``homo_nn``): :class:`TrainingParams`, the SecAgg switch
    and client-level differential privacy.

    SecAgg's own settings stay library-level: a job that could lower SecAgg's threshold would
    let the aggregator unmask single updates, and the privacy policy checks only the switch
    (``secure_aggregation``). DP (``dp``) only adds protection, so a job may set it: with
    ``noise: client`` (the default) each sampled client adds its share of the noise before
    masking, so under SecAgg nobody, the aggregator included, sees an un-noised sum.
    """

    secure_aggregation: bool = Field(True, description=(
        "SecAgg: the aggregator learns only the sum (the node's privacy policy requires it)"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "SecAgg's crypto suite: standard (X25519, SHA-2, ChaCha20) or sm (SM2/SM3/SM4); "
        "set by the federation"))
    dp: DPConfig | None = Field(None, description=(
        "client-level DP (DP-FedAvg): clip_norm, noise_multiplier, delta, noise; the "
        "accountant's epsilon is reported in the aggregator's metrics"))
    contribution_group_size: int | None = Field(None, ge=1, le=1000, description=(
        "measure contributions (GTG-Shapley, leave-one-out) over groups of this many clients "
        "on the aggregator's validate_data; under SecAgg the aggregator then learns each "
        "group's sum (at least 2 clients; docs/ledger.md). None: not measured"))

    @model_validator(mode="after")
    def _noise_needs_secagg(self) -> HorizontalJobParams:
        if self.dp is not None and self.dp.noise_multiplier == 0:
            raise ParamConflict("dp without noise gives no guarantee (epsilon would be "
                                "infinite); set noise_multiplier > 0 or leave dp out", "dp")
        if self.dp is not None and self.dp.noise == "client" and not self.secure_aggregation:
            raise ParamConflict("client-side DP noise protects the sum only under SecAgg; "
                                "use dp.noise 'server' without it", "dp", "secure_aggregation")
        return self

    @model_validator(mode="after")
    def _groups_hide_single_updates(self) -> HorizontalJobParams:
        size = self.contribution_group_size
        if self.secure_aggregation and size is not None and size < 2:
            raise ParamConflict("under SecAgg a contribution group needs at least 2 clients "
                                "(the SecAgg threshold of the smallest group)",
                                "contribution_group_size", "secure_aggregation")
        return self

    def protocol_params(self) -> HorizontalParams:
        """The protocol's parameters: the training fields, SecAgg's defaults (in the job's
        crypto suite) when switched on, DP, and contribution groups when asked for."""
        size = self.contribution_group_size
        return HorizontalParams(
            **self.model_dump(include=set(TrainingParams.model_fields)),
            secagg=SecAggConfig(suite=self.suite) if self.secure_aggregation else None,
            dp=self.dp,
            contribution=None if size is None else ContributionConfig(group_size=size),
            suite=self.suite)


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
