"""SecureBoost's shared specification: parameters, message keys and payload shapes.

Every role is built with the same :class:`SecureBoostParams` (the parameter contract of
:class:`coalition.core.Params`: an invalid value is a ``ConfigError`` naming the field); the
guest sends the protocol-relevant subset in :data:`SETUP` and each host refuses a mismatch, so a
misconfigured host fails at the start instead of producing a silently different model.

Message flow of one tree (namespaces ``tree/<t>`` and ``tree/<t>/level/<d>``)::

    guest -> hosts   GRADIENTS    {"stop", "rows", "enc", "slot_bits", "slots"}
    per level d:
    guest -> hosts   NODES        {"nodes", "pos"}     active node ids, node id per row
    host  -> guest   HISTOGRAMS   {"nodes", "counts", "packed"}  shuffled candidates, packed
    guest -> hosts   WINNERS      {node_id: candidate index}  (only the owner's own wins)
    host  -> guest   SPLITS       {node_id: packed go-left bits}  (rows of that node)
    after the tree, when a validation set is used:
    host  -> guest   VALID_BITS   packed go-left bits of the host's splits on validation rows
    end of training: guest -> hosts GRADIENTS {"stop": True, "n_trees"} (trees kept)

Inference: each host -> guest PREDICT_BITS {"keys", "bits", "n_rows"} (see ``predict.py``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from coalition.core import MessageKey, ParamConflict, Params
from coalition.crypto.he import HEScheme
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "GRADIENTS",
    "HISTOGRAMS",
    "NODES",
    "PREDICT_BITS",
    "PUBLIC_KEY",
    "SETUP",
    "SPLITS",
    "VALID_BITS",
    "WINNERS",
    "Objective",
    "SecureBoostParams",
]


class Objective(StrEnum):
    """Training loss."""

    BINARY = "binary:logistic"
    MULTICLASS = "multi:softmax"
    REGRESSION = "reg:squarederror"


class SecureBoostParams(Params):
    """Hyper-parameters shared by every role; validated once, here."""

    params_of = "SecureBoost"

    objective: Objective = Field(Objective.BINARY, description=(
        "training loss: binary:logistic, multi:softmax or reg:squarederror"))
    num_class: int = Field(2, ge=2, description="classes for multi:softmax")
    num_trees: int = Field(10, ge=1, le=10_000, description="boosting rounds")
    max_depth: int = Field(3, ge=1, le=16, description="levels of each tree")
    learning_rate: float = Field(0.3, gt=0.0, le=1.0, description="shrinkage of each tree")
    reg_lambda: float = Field(1.0, ge=0.0, description="L2 regularisation of leaf weights")
    min_child_weight: float = Field(1e-3, ge=0.0, description="minimum hessian sum per child")
    min_samples_leaf: int = Field(20, ge=1, description="minimum rows per child")
    min_split_gain: float = Field(0.0, ge=0.0, description="minimum gain to split a node")
    max_bin: int = Field(32, ge=2, le=255, description="bins per feature, missing excluded")
    sampling: Literal["none", "random", "goss"] = Field("none", description=(
        "row sampling per tree; goss selects rows by gradient (label-dependent)"))
    subsample: float = Field(1.0, gt=0.0, le=1.0, description="row rate for sampling=random")
    goss_top_rate: float = Field(0.2, gt=0.0, lt=1.0,
                                 description="goss: share of rows with the largest gradients")
    goss_other_rate: float = Field(0.1, gt=0.0, lt=1.0,
                                   description="goss: share of the other rows, drawn at random")
    early_stopping_rounds: int = Field(0, ge=0, description="0 disables early stopping")
    he_scheme: HEScheme = Field("ou", description=(
        "additive homomorphic scheme of the guest's key: ou (Okamoto-Uchiyama, 2048-bit "
        "arithmetic, the fast default) or paillier"))
    key_bits: Literal[1024, 2048, 3072, 4096] = Field(2048, description=(
        "modulus size n of the guest's key (both schemes)"))
    allow_insecure_key: bool = Field(False, description="permit keys under 2048 bits")
    precision_bits: int = Field(12, ge=4, le=52,
                                description="fixed-point bits of |g|max and hmax per row")
    seed: int | None = Field(None, description=(
        "ignored: the guest draws row samples from a secret CSPRNG key (a seed in the job is "
        "public); accepted so existing jobs parse"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the row-alignment digests (SHA-256 or SM3) and of the guest's "
        "sampling stream (HKDF-SHA256 and ChaCha20, or HKDF-SM3 and SM4-CTR): standard or sm; "
        "the federation's, filled in at submit when omitted"))

    @model_validator(mode="after")
    def _check(self) -> SecureBoostParams:
        if self.key_bits < 2048 and not self.allow_insecure_key:
            raise ParamConflict("keys under 2048 bits need allow_insecure_key=True",
                                "key_bits", "allow_insecure_key")
        if self.sampling == "goss" and self.goss_top_rate + self.goss_other_rate > 1.0:
            raise ParamConflict("goss_top_rate + goss_other_rate must not exceed 1",
                                "goss_top_rate", "goss_other_rate")
        return self

    @property
    def trees_per_round(self) -> int:
        """One tree per class per round for softmax, otherwise one."""
        return self.num_class if self.objective is Objective.MULTICLASS else 1

    def wire_subset(self) -> dict[str, Any]:
        """The fields every party must agree on (sent by the guest in :data:`SETUP`)."""
        return self.model_dump(mode="json", include={
            "objective", "num_class", "num_trees", "max_depth", "min_samples_leaf",
            "max_bin", "early_stopping_rounds", "he_scheme", "precision_bits",
        })


PUBLIC_KEY = MessageKey("public_key", "guest -> hosts: public key (he_scheme)")
SETUP = MessageKey("setup", "guest -> hosts: params subset, row count, validation row count")
GRADIENTS = MessageKey("gradients", "guest -> hosts: packed encrypted (g, h) of sampled rows")
NODES = MessageKey("nodes", "guest -> hosts: active nodes and the node id of every row")
HISTOGRAMS = MessageKey("histograms", "host -> guest: shuffled candidate sums, packed")
WINNERS = MessageKey("winners", "guest -> host: which of its shuffled candidates won")
SPLITS = MessageKey("splits", "host -> guest: go-left bits of the rows of won nodes")
VALID_BITS = MessageKey("valid_bits", "host -> guest: go-left bits on validation rows")
PREDICT_BITS = MessageKey("predict_bits", "host -> guest: go-left bits for prediction rows")
