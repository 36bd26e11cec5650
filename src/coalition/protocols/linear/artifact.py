"""A party's part of a trained vertical linear model: its own weights only.

The guest's part also holds the intercept and the task; a host's part holds its weights and
nothing about other parties. Each part keeps the standardisation its owner fitted locally.

A part trained under the ``sm`` crypto suite records it (``meta["suite"]``, :func:`suite_meta`),
so joint prediction masks with the same suite's primitives; a part without it is ``standard``
(and its artifact bytes are what they were before suites existed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.data import Standardizer

__all__ = ["ARTIFACT_KIND", "LinearModelPart", "suite_meta"]

ARTIFACT_KIND = "coalition.linear.part/1"


@dataclass
class LinearModelPart:
    """Weights of one party (in its standardised feature space) plus its scaler."""

    role: str
    task: str
    protocol: str
    feature_names: list[str]
    weights: NDArray[np.float64]
    scaler: Standardizer
    intercept: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def suite(self) -> CryptoSuite:
        """The crypto suite the part was trained under (``standard`` when not recorded)."""
        try:
            return CryptoSuite(self.meta.get("suite", CryptoSuite.STANDARD.value))
        except ValueError as exc:
            raise InputError("unknown crypto suite in a linear model part") from exc

    def partial_score(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """``standardise(x) · w`` for this party's raw feature rows."""
        if features.ndim != 2 or features.shape[1] != len(self.weights):
            raise InputError("feature columns differ from the model's",
                             expected=len(self.weights), got=features.shape[-1])
        out: NDArray[np.float64] = self.scaler.transform(features) @ self.weights
        return out

    def to_artifact(self) -> dict[str, Any]:
        """Plain-value form, safe to store and sign."""
        return {
            "kind": ARTIFACT_KIND, "role": self.role, "task": self.task,
            "protocol": self.protocol, "feature_names": list(self.feature_names),
            "weights": self.weights.tolist(), "intercept": self.intercept,
            "scaler": self.scaler.to_dict(), "meta": dict(self.meta),
        }

    @classmethod
    def from_artifact(cls, raw: dict[str, Any]) -> LinearModelPart:
        """Rebuild from :meth:`to_artifact` output; validates the shape."""
        if raw.get("kind") != ARTIFACT_KIND:
            raise InputError("not a linear model part", kind=raw.get("kind"))
        try:
            weights = np.asarray(raw["weights"], dtype=np.float64)
            part = cls(str(raw["role"]), str(raw["task"]), str(raw["protocol"]),
                       [str(n) for n in raw["feature_names"]], weights,
                       Standardizer.from_dict(raw["scaler"]),
                       None if raw["intercept"] is None else float(raw["intercept"]),
                       dict(raw.get("meta", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("corrupt linear model artifact", reason=str(exc)) from exc
        if weights.ndim != 1 or len(part.feature_names) != len(weights):
            raise InputError("weights and feature names differ in length")
        return part


def suite_meta(suite: CryptoSuite | str) -> dict[str, str]:
    """The ``meta`` entry recording a training suite: empty for ``standard`` (unchanged
    artifacts), ``{"suite": "sm"}`` otherwise."""
    suite = CryptoSuite(suite)
    return {} if suite == CryptoSuite.STANDARD else {"suite": suite.value}
