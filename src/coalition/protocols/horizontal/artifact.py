"""The trained global model as an artifact: architecture description, named weights, and the
per-round history; loadable for local scoring without any federation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import InputError
from coalition.protocols.horizontal.models.base import Classifier, Model, NumpyModel
from coalition.protocols.horizontal.models.registry import build_model
from coalition.protocols.horizontal.weights import Weights

__all__ = ["ARTIFACT_FORMAT", "GlobalModel", "RoundRecord"]

ARTIFACT_FORMAT = "coalition.horizontal.model/1"


@dataclass(frozen=True)
class RoundRecord:
    """What happened in one round, as the aggregator saw it.

    ``metrics`` are the validation metrics of the global model that *entered* the round
    (averaged over clients, weighted by validation rows); ``applied`` is false when the round
    ended below quorum or SecAgg could not finish; ``epsilon`` is the DP budget spent so far.
    """

    round: int
    sampled: list[str]
    participants: list[str]
    applied: bool
    metrics: dict[str, float]
    epsilon: float | None = None
    model_sha256: str | None = None  # digest of the global model after the round
    #: the hash of ``model_sha256`` when not SHA-256 (``sm3`` under the ``sm`` suite); left out
    #: of the artifact when None, so standard artifacts keep their exact bytes
    digest_alg: str | None = None


@dataclass
class GlobalModel:
    """Architecture + weights + history; ``to_artifact()`` is codec- and JSON-friendly."""

    description: dict[str, Any]
    weights: Weights
    history: list[RoundRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, Any] | None = None  # the aggregator's measurement; not in the artifact

    def to_artifact(self) -> dict[str, Any]:
        """Plain values only (names → lists for JSON, arrays kept for the codec)."""
        return {
            "format": ARTIFACT_FORMAT,
            "description": self.description,
            "weights": {k: np.asarray(v, dtype=np.float64) for k, v in self.weights.items()},
            "history": [{k: v for k, v in asdict(r).items()
                         if k != "digest_alg" or v is not None} for r in self.history],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_artifact(cls, data: Mapping[str, Any]) -> GlobalModel:
        """Inverse of :meth:`to_artifact`; :class:`InputError` if it is not one."""
        if not isinstance(data, Mapping) or data.get("format") != ARTIFACT_FORMAT:
            raise InputError("not a horizontal model artifact", expected=ARTIFACT_FORMAT)
        try:
            weights = {str(k): np.asarray(v, dtype=np.float64) for k, v in data["weights"].items()}
            history = [RoundRecord(**r) for r in data.get("history", [])]
            return cls(dict(data["description"]), weights, history, dict(data.get("metrics", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError("corrupt horizontal model artifact") from exc

    def build(self) -> NumpyModel:
        """A numpy model with these weights (numpy kinds only; see :meth:`load_into`)."""
        model = build_model(self.description)
        model.set_weights(self.weights)
        return model

    def load_into(self, model: Model) -> Model:
        """Put these weights into a model built by the caller (e.g. a ``TorchModel``)."""
        model.set_weights(self.weights)
        return model

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Score rows locally with the global model."""
        return self.build().predict(x)

    def predict_proba(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """Class scores of rows (see :class:`Classifier`); :class:`InputError` for a model
        that does not classify."""
        model = self.build()
        if not isinstance(model, Classifier):
            raise InputError("this model does not score classes", kind=model.kind)
        return model.predict_proba(x)
