"""Split learning's shared specification: parameters, message keys and the fixed-point scales.

Every role is built with the same :class:`HeteroNNParams`; the guest sends the subset every
party must agree on in :data:`SETUP` and the host and the dealer refuse a mismatch.

Message flow (namespaces ``train/<epoch>/<batch>``; the host is ``h``, the dealer ``a``), for
each host ``h`` (several hosts: every pair runs it; the dealer's messages to the guest about
the pair with ``h`` live under ``…/with-<h>``; the hosts first send each other HOST_KEY and
mask their FORWARD shares so that only the sum over hosts decodes, :mod:`.hostmask`; the
guest sends every host the same δ and one ``R`` for all)::

    guest -> h, a   SETUP        {"rows", "params"}             public sizes only
    a -> guest, h   SEED         a 128-bit seed each (correlated randomness, ``triples``)
    guest -> a      PROCEED      per epoch: deal it (the dealer stays one epoch behind)
    a -> guest, h   CORRECTIONS  per epoch: the non-random triple shares of every batch
    per batch:
    guest -> h      MASKED_WEIGHTS  F1 = U_g − B1            (guest's share of W_h, masked)
    h -> guest      FORWARD      E1 = α_h − A1, E2 = α_hᵀ − A2, F3 = U_hᵀ − B3, share of α_h·W_h
    guest -> h      BACKWARD     E3 = δ − A3, F2 = δ' − B2, guest's share of δ·W_hᵀ

    after the last epoch (namespace ``train/finish``), one more product, ``W_h·R`` for the
    guest's secret random invertible ``R`` (k×k), revealed to the host only:
    a -> guest      CORRECTIONS  C_R of that product
    h -> guest      FINISH_OPEN  E = U_h − A
    guest -> h      FINISH_SHARE F = R − B and the guest's share (with U_g·R)

Prediction (namespace ``predict``, no dealer): the host sends ``α_h·(W_h·R)`` (PREDICT), the
guest multiplies by ``R⁻¹``: the same ``α_h·W_h`` as in training, and nobody holds ``W_h``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from coalition.core import MessageKey, ParamConflict, Params
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "BACKWARD", "CORRECTIONS", "FORWARD", "FRAC_DELTA", "FRAC_STEP", "FRAC_VALUE", "FRAC_WEIGHT",
    "FINISH_OPEN", "FINISH_SHARE", "FRAC_PREDICT", "HOST_KEY", "MASKED_WEIGHTS", "PREDICT",
    "PROCEED", "SEED", "SETUP",
    "HeteroNNParams",
]

#: Fixed-point fractional bits (ring Z_2^64) of bottom outputs and of the random ``R``.
FRAC_VALUE = 12
#: ... of the shares of the host's interactive weights W_h and their momentum: finer than
#: the values, so that steps of lr·∇ (often below 2^-12) are not lost to truncation.
FRAC_WEIGHT = 20
#: ... of the interactive layer's error δ = ∂ℓ/∂z (per row), which masks the host's gradient.
FRAC_DELTA = 16
#: ... of the learning-rate-scaled error δ' = (lr / B)·δ that forms the host weights' step.
FRAC_STEP = 24
#: ... of the masked prediction parts α_h·W_h·R of several hosts (resolution 2^-40, range ±2^23).
FRAC_PREDICT = 40


class HeteroNNParams(Params):
    """Hyper-parameters of vertical split learning; validated once, here."""

    params_of = "hetero NN"

    task: Literal["binary", "regression"] = Field("binary", description=(
        "binary classification (logistic output, log loss) or regression (squared error)"))
    bottom_units: list[int] = Field(default_factory=lambda: [16, 8], description=(
        "widths of each party's bottom model (its own features only); the last is the "
        "width of its output α"), min_length=1, max_length=8)
    interactive_units: int = Field(8, ge=1, le=256, description=(
        "width k of the interactive layer z = α_g·W_g + Σ_h α_h·W_h + b (each W_h stays "
        "secret-shared between the guest and its host)"))
    top_units: list[int] = Field(default_factory=list, description=(
        "hidden widths of the guest's top model between the interactive layer and the output"),
                                 max_length=8)
    activation: Literal["relu", "tanh"] = Field("relu", description=(
        "activation of every hidden, bottom-output and interactive unit"))
    epochs: int = Field(20, ge=1, le=1000, description="passes over the aligned rows")
    batch_size: int = Field(128, ge=8, le=65536, description="rows per mini-batch")
    learning_rate: float = Field(0.05, gt=0.0, le=10.0, description="SGD step size")
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="SGD momentum (every layer)")
    shuffle: bool = Field(True, description="reshuffle the rows every epoch (public schedule)")
    seed: int = Field(0, ge=0, description=(
        "seed of the public batch schedule only; weights and masks come from secret CSPRNGs"))
    grad_noise: float = Field(0.0, ge=0.0, le=100.0, description=(
        "label-leakage mitigation: Gaussian noise on the error δ that forms the host's "
        "gradient δ·W_hᵀ, standard deviation grad_noise × the batch's largest row norm of δ "
        "(isotropic perturbation, Li et al. 2022); the guest's own layers use the clean δ; "
        "0 = off"))
    label_dp_epsilon: float | None = Field(None, gt=0.0, description=(
        "binary only: ε-label-DP by randomized response on the guest's training labels "
        "(each kept with probability e^ε/(1+e^ε)); None = off"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the row-alignment digests (SHA-256 or SM3), the triples' PRG "
        "(HKDF-SHA256 and ChaCha20, or HKDF-SM3 and SM4-CTR) and the hosts' pair masks "
        "(X25519, or SM2 ECDH): standard or sm; the federation's, filled in at submit when "
        "omitted"))
    backend: Literal["numpy", "torch", "auto"] = Field("numpy", description=(
        "what runs this party's plaintext layers (bottom model; the guest's interactive half "
        "and top model): numpy, or PyTorch (the 'torch' extra; float64 on the CPU); auto = "
        "torch when installed. The secret-shared interactive layer and every message are the "
        "same either way; each party may choose its own"))

    @model_validator(mode="after")
    def _check(self) -> HeteroNNParams:
        if any(u < 1 or u > 1024 for u in [*self.bottom_units, *self.top_units]):
            raise ParamConflict("layer widths must be between 1 and 1024",
                                "bottom_units", "top_units")
        if self.label_dp_epsilon is not None and self.task != "binary":
            raise ParamConflict("label_dp_epsilon needs task: binary", "label_dp_epsilon", "task")
        return self

    @property
    def bottom_width(self) -> int:
        """Width of each party's bottom output α."""
        return self.bottom_units[-1]

    def wire_subset(self) -> dict[str, Any]:
        """The fields every party must agree on (sent by the guest in :data:`SETUP`). The
        suite is among them only under ``sm``, so that the ``standard`` SETUP keeps its exact
        bytes and a party on ``standard`` refuses an ``sm`` guest (and the other way round)
        before any triple is expanded."""
        fields = {"task", "bottom_units", "interactive_units", "activation", "epochs",
                  "batch_size", "learning_rate", "momentum", "shuffle", "seed"}
        if self.suite != CryptoSuite.STANDARD:
            fields.add("suite")
        return self.model_dump(mode="json", include=fields)


SETUP = MessageKey("setup", "guest -> host, dealer: row count and the agreed parameters")
SEED = MessageKey("seed", "dealer -> guest, host: 128-bit seed of the party's triple shares")
PROCEED = MessageKey("proceed", "guest -> dealer: deal this epoch's triples")
CORRECTIONS = MessageKey("corrections", "dealer -> guest, host: non-random triple shares")
MASKED_WEIGHTS = MessageKey("masked_weights", "guest -> host: F1 = U_g − B1")
FORWARD = MessageKey("forward", "host -> guest: masked α_h, α_hᵀ, U_hᵀ; share of α_h·W_h")
FINISH_OPEN = MessageKey("finish_open", "host -> guest: U_h − A (the host's half, masked)")
FINISH_SHARE = MessageKey("finish_share", "guest -> host: R − B; share of W_h·R")
PREDICT = MessageKey("predict", "host -> guest: α_h·(W_h·R) of the rows to score (several "
                     "hosts: fixed point, masked between hosts)")
HOST_KEY = MessageKey("host_mask_key", "host -> host: public key of the pair masks that "
                      "cancel in the guest's sum over hosts (X25519, 32 bytes; a compressed "
                      "SM2 point, 33 bytes, under the sm suite)")
BACKWARD = MessageKey("backward", "guest -> host: masked δ and δ'; share of δ·W_hᵀ")
