"""Parameters and message keys of horizontal histogram GBDT.

Message flow (namespace ``step/i``, one secure sum per step)::

    aggregator → every client   STEP    {"kind": "range" | "sketch" | "hist", ..., "secagg": plan}
    client → aggregator         REPLY   {"secagg": {"m_pk": bytes, "masked": uint64 array}}
    aggregator → every client   STEP    {"kind": "final", "model": GBDTModel artifact}

Step kinds: ``range`` (row and positive counts, coarse log-scale counts per feature), ``sketch``
(counts on a fine linear grid inside the agreed range), then ``hist`` once per tree level
(gradient, hessian and row-count histograms of the level's open nodes). A fallback of SecAgg
(a client dropped) is signalled in place of the next STEP, as in
:mod:`coalition.protocols.horizontal.secagg.session`.
"""

from __future__ import annotations

from pydantic import Field

from coalition.core import MessageKey, Params
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.horizontal.spec import SecAggConfig

__all__ = ["REPLY", "STEP", "BoostingParams", "GBDTJobParams", "GBDTParams"]

STEP = MessageKey("gbdt_step", "aggregator → client: what to sum next (and the trees so far)")
REPLY = MessageKey("gbdt_reply", "client → aggregator: its masked share of the secure sum")


class BoostingParams(Params):
    """Boosting and binning settings of horizontal GBDT (binary logloss): what a job sets.

    Trees grow depth-wise to ``max_depth``; a node splits where the second-order gain
    ``G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`` is largest and positive, with at least
    ``min_samples_leaf`` rows and ``min_child_weight`` hessian on each side; leaves get
    ``−learning_rate · G/(H+λ)`` (Chen & Guestrin, KDD 2016).
    """

    params_of = "horizontal GBDT"

    n_trees: int = Field(50, ge=1, le=1000, description="boosting rounds (trees)")
    max_depth: int = Field(4, ge=1, le=8, description="depth of each tree")
    learning_rate: float = Field(0.3, gt=0.0, le=1.0, description="shrinkage of each tree")
    max_bins: int = Field(32, ge=2, le=256, description="bins per feature")
    l2: float = Field(1.0, ge=0.0, description="L2 regularisation λ of the leaf values")
    min_samples_leaf: int = Field(20, ge=1, description="fewest rows in a leaf")
    min_child_weight: float = Field(1e-3, ge=0.0, description="least hessian in a leaf")
    sketch_cells: int = Field(1024, ge=64, le=8192,
                              description="cells of the fine grid the bin edges come from")
    client_timeout: float = Field(60.0, gt=0.0,
                                  description="seconds the aggregator waits per step")
    dp_noise_multiplier: float | None = Field(None, gt=0.0, description=(
        "row-level DP: every client adds its share of Gaussian noise (this multiple of each "
        "step's sensitivity) to every sum before masking; None: exact sums"))
    dp_delta: float = Field(1e-5, gt=0.0, lt=1.0, description="delta of the reported epsilon")


class GBDTParams(BoostingParams):
    """:class:`BoostingParams` and the settings of secure aggregation (always on)."""

    secagg: SecAggConfig = Field(default_factory=SecAggConfig,
                                 description="secure aggregation of every sum (always on)")


class GBDTJobParams(BoostingParams):
    """What a job sets (``homo_gbdt``): the boosting and binning settings. SecAgg is always on
    with its library defaults (a job that could lower its threshold would let the aggregator
    unmask one client's sums); the federation sets its crypto suite."""

    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "SecAgg's crypto suite: standard (X25519, SHA-2, ChaCha20) or sm (SM2/SM3/SM4); "
        "set by the federation"))

    def protocol_params(self) -> GBDTParams:
        """The protocol's parameters: these settings and SecAgg in the job's suite."""
        return GBDTParams(**self.model_dump(include=set(BoostingParams.model_fields)),
                          secagg=SecAggConfig(suite=self.suite))
