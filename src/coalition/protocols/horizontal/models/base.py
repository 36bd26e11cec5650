"""The model interface clients train, and a numpy base class with minibatch SGD.

A :class:`Model` exposes its state as named float64 arrays (what travels through the codec),
trains locally and evaluates itself. FedProx's proximal term ``μ/2·‖w − w_global‖²`` (Li et al.
MLSys 2020) is added by the trainer, anchored at the weights the model held when ``fit`` began —
the global model the aggregator sent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError
from coalition.protocols.horizontal.weights import ParamLayout, Weights

__all__ = ["Classifier", "Model", "NumpyModel", "TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Local training of one round."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 0.1
    proximal_mu: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ConfigError("epochs, batch_size and learning_rate must be positive")
        if self.proximal_mu < 0:
            raise ConfigError("proximal_mu must be >= 0", proximal_mu=self.proximal_mu)


@runtime_checkable
class Model(Protocol):
    """What a horizontal client trains: numpy models here, PyTorch via ``TorchModel``."""

    def get_weights(self) -> Weights:
        """A copy of the parameters as named float64 arrays."""
        ...

    def set_weights(self, weights: Mapping[str, NDArray[Any]]) -> None:
        """Replace the parameters (same names and shapes)."""
        ...

    def fit(self, x: NDArray[Any], y: NDArray[Any], config: TrainConfig,
            rng: np.random.Generator) -> float:
        """Train locally; return the mean training loss of the last epoch."""
        ...

    def evaluate(self, x: NDArray[Any], y: NDArray[Any]) -> dict[str, float]:
        """Metrics on ``(x, y)``; always includes ``loss``."""
        ...

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Predicted labels (classification) or values (regression)."""
        ...

    def describe(self) -> dict[str, Any]:
        """``{"kind": ..., "config": {...}}``: enough to rebuild the architecture."""
        ...


@runtime_checkable
class Classifier(Protocol):
    """A model that scores classes (``LogisticRegression``, ``MLP``)."""

    def predict_proba(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """P(y=1) per row for binary models, class probabilities ``(n, k)`` otherwise."""
        ...


class NumpyModel(ABC):
    """Differentiable numpy model: subclasses give init, loss/gradient, scores and metrics."""

    kind: str = ""

    def __init__(self, seed: int = 0) -> None:
        self.weights_: Weights = self._init_weights(np.random.default_rng(seed))
        self._layout = ParamLayout.of(self.weights_)

    @abstractmethod
    def _init_weights(self, rng: np.random.Generator) -> Weights: ...

    @abstractmethod
    def _loss_grad(self, w: Weights, x: NDArray[np.float64],
                   y: NDArray[Any]) -> tuple[float, Weights]: ...

    @abstractmethod
    def _metrics(self, x: NDArray[np.float64], y: NDArray[Any]) -> dict[str, float]: ...

    @abstractmethod
    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Predicted labels or values."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Kind and constructor arguments."""

    def get_weights(self) -> Weights:
        """A copy of the parameters."""
        return {k: v.copy() for k, v in self.weights_.items()}

    def set_weights(self, weights: Mapping[str, NDArray[Any]]) -> None:
        """Replace the parameters; shapes are checked."""
        self.weights_ = self._layout.unflatten(self._layout.flatten(weights))

    def fit(self, x: NDArray[Any], y: NDArray[Any], config: TrainConfig,
            rng: np.random.Generator) -> float:
        """Minibatch SGD with the optional FedProx proximal term."""
        x = np.asarray(x, dtype=np.float64)
        anchor = self.get_weights() if config.proximal_mu > 0 else None
        w = self.weights_
        n = x.shape[0]
        last = 0.0
        for _ in range(config.epochs):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, config.batch_size):
                idx = order[start:start + config.batch_size]
                loss, grads = self._loss_grad(w, x[idx], y[idx])
                total += loss * len(idx)
                for name, grad in grads.items():
                    step = grad if anchor is None else \
                        grad + config.proximal_mu * (w[name] - anchor[name])
                    w[name] -= config.learning_rate * step
            last = total / n
        return last

    def evaluate(self, x: NDArray[Any], y: NDArray[Any]) -> dict[str, float]:
        """Metrics of the current parameters on ``(x, y)``."""
        return self._metrics(np.asarray(x, dtype=np.float64), y)
