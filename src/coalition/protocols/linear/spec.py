"""Shared parameters of vertical linear models (every protocol variant, every role).

:class:`LinearParams` follows the parameter contract of :class:`coalition.core.Params`: validated
once, at the boundary (:meth:`LinearParams.parse`), every problem one
:class:`~coalition.core.errors.ConfigError` naming its field. Variant-specific message keys live
in ``ss/spec.py`` and ``he/spec.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from coalition.core.params import ParamConflict, Params
from coalition.crypto.he import HEScheme
from coalition.crypto.suite import CryptoSuite

__all__ = ["MIN_HE_BATCH_FACTOR", "LinearParams", "Protocol", "Sigmoid", "Task"]

Task = Literal["logistic", "linear", "poisson"]
Sigmoid = Literal["taylor1", "poly3"]
Protocol = Literal["ss", "he-arbiter", "he-guest"]

#: Paillier variants: a party that sees a per-batch aggregate over ``w`` of its own columns
#: (``X^T d``) gets ``w`` equations in the batch's unknowns (residuals, hence labels), so a
#: batch must have at least this many times as many rows as the widest observer has columns.
#: The privacy policy (``coalition.engine.policy``) may raise it, nothing lowers it.
MIN_HE_BATCH_FACTOR = 10

#: Optimisers whose update is linear in the gradient: they run on secret shares without any
#: extra secure multiplication. Adam/RMSprop need a secure square root and division.
LINEAR_OPTIMIZERS = frozenset({"sgd", "momentum", "nesterov"})


class LinearParams(Params):
    """Hyper-parameters of hetero logistic / linear regression.

    ``protocol`` picks the topology: ``ss`` (additive secret sharing, arbiter as dealer, or the
    guest as dealer without an arbiter), ``he-arbiter`` (Paillier, arbiter holds the key) or
    ``he-guest`` (Paillier, guest holds the key). See ``docs/linear.md`` for what each assumes.
    """

    params_of = "linear model"

    task: Task = Field("logistic", description=(
        "logistic (binary labels), linear regression, or poisson (counts, log link; "
        "ss, or he-arbiter with one host)"))
    protocol: Protocol = Field("ss", description="ss, he-arbiter or he-guest (see above)")
    epochs: int = Field(20, ge=1, le=100_000, description="passes over the training rows")
    batch_size: int | None = Field(240, ge=1, description="rows per mini-batch; None = full batch")
    learning_rate: float = Field(0.15, gt=0.0, le=100.0, description="initial step size")
    optimizer: Literal["sgd", "momentum", "nesterov", "adam", "rmsprop"] = Field(
        "sgd", description="update rule; ss supports sgd, momentum and nesterov")
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="beta1 for momentum/nesterov/adam")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="adam/rmsprop second moment decay")
    epsilon: float = Field(1e-8, gt=0.0, description="adam/rmsprop denominator guard")
    penalty: Literal["none", "l1", "l2"] = Field(
        "l2", description="regulariser of the weights (not the intercept); ss: l2 or none")
    alpha: float = Field(0.01, ge=0.0, description="regularisation strength")
    decay: float = Field(0.0, ge=0.0, description="lr_t = lr / (1 + decay * epoch)")
    fit_intercept: bool = Field(True, description="the guest learns an intercept")
    class_weight: Literal["none", "balanced"] = Field(
        "none", description="balanced re-weights classes (logistic, he only)")
    early_stop: Literal["none", "loss", "weight_diff"] = Field(
        "none", description="stop when this changes by less than tol between epochs")
    tol: float = Field(1e-4, gt=0.0, description="early-stopping tolerance")
    shuffle: bool = Field(True, description="shuffle the batch order every epoch")
    seed: int = Field(0, ge=0, description="batch order and initial state (public)")
    frac_bits: int = Field(14, ge=8, le=20, description="ss only: fixed-point fractional bits")
    he_scheme: HEScheme = Field("paillier", description=(
        "he only: paillier, or ou (Okamoto-Uchiyama: faster, but its decryption service is a "
        "key-recovery oracle against an active partner; partners must grant allow_ou_lr)"))
    key_bits: int = Field(2048, ge=512, description="he only: modulus bits of the HE key")
    he_pipeline: int = Field(2, ge=1, le=16, description=(
        "he-arbiter only: row segments each batch streams in (host [[k u_h]] -> guest [[d]] -> "
        "the parties' X^T [[d]] products start per segment; the arbiter serves decryptions "
        "as they arrive). 1 runs each batch's steps strictly in turn. The model is the same "
        "either way"))
    allow_insecure_key: bool = Field(False, description="he only: permit keys under 2048 bits")
    precision_bits: int = Field(40, ge=16, le=64, description="he only: encoding precision")
    report_loss: bool = Field(True, description="compute the training loss every epoch")
    sigmoid: Sigmoid = Field("taylor1", description=(
        "logistic only: the sigmoid's polynomial approximation: taylor1 (1/2 + z/4, every "
        "protocol) or poly3 (least-squares cubic on [-6, 6]: as accurate as centralised LR; "
        "ss, and he-arbiter with one host)"))
    averaging: Literal["none", "epoch"] = Field("none", description=(
        "epoch: the model is the mean of the last epoch's iterates (Polyak-Ruppert), which "
        "removes most of mini-batch SGD's end-of-training noise"))
    feature_clip: float | None = Field(None, gt=0.0, le=1000.0, description=(
        "clip standardised features to [-clip, clip] (at training and prediction); 4 is a "
        "good choice with poly3; None keeps them as they are"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite: standard (X25519, HKDF-SHA256, ChaCha20) or sm (SM2, HKDF-SM3, "
        "SM4-CTR) for ss's share PRG and, recorded in every part, for the hosts' pairwise "
        "masks when the model predicts; set by the federation"))

    @model_validator(mode="after")
    def _consistent(self) -> LinearParams:
        if self.protocol == "ss":
            if self.optimizer not in LINEAR_OPTIMIZERS:
                raise ParamConflict(f"optimizer {self.optimizer!r} needs secure sqrt/division; "
                                    f"protocol 'ss' supports {sorted(LINEAR_OPTIMIZERS)}",
                                    "optimizer", "protocol")
            if self.penalty == "l1":
                raise ParamConflict("L1 needs a secure sign(); protocol 'ss' supports l2 or none",
                                    "penalty", "protocol")
            if self.class_weight != "none":
                raise ParamConflict("class weights are not supported by protocol 'ss'",
                                    "class_weight", "protocol")
        if self.task != "logistic" and self.class_weight != "none":
            raise ParamConflict("class weights apply to logistic regression only",
                                "class_weight", "task")
        if self.task == "poisson" and self.protocol == "he-guest":
            raise ParamConflict("poisson with Paillier needs the guest to multiply the host's "
                                "encrypted exp(score) by its own, which he-guest cannot (the "
                                "guest holds the key): use he-arbiter or ss", "task", "protocol")
        if self.sigmoid == "poly3" and self.task != "logistic":
            raise ParamConflict("a sigmoid approximation applies to logistic regression only",
                                "sigmoid", "task")
        if self.sigmoid == "poly3" and self.protocol == "he-guest":
            raise ParamConflict("poly3 needs the guest to combine encrypted powers of the "
                                "hosts' scores, which he-guest cannot (the guest holds the "
                                "key); use ss or he-arbiter", "sigmoid", "protocol")
        if self.key_bits < 2048 and not self.allow_insecure_key:
            raise ParamConflict("key_bits < 2048 requires allow_insecure_key=True",
                                "key_bits", "allow_insecure_key")
        return self

    def lr_at(self, epoch: int) -> float:
        """Learning rate of ``epoch`` (0-based) after decay."""
        return self.learning_rate / (1.0 + self.decay * epoch)

    def effective_batch(self, n_rows: int) -> int:
        """Rows per batch for ``n_rows`` rows."""
        return n_rows if self.batch_size is None else min(self.batch_size, n_rows)
