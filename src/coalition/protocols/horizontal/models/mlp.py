"""A small multilayer perceptron (ReLU hidden layers, softmax output) in numpy."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError
from coalition.protocols.horizontal.models.base import NumpyModel
from coalition.protocols.horizontal.models.linear import log_softmax, softmax_xent
from coalition.protocols.horizontal.models.metrics import accuracy, roc_auc
from coalition.protocols.horizontal.weights import Weights

__all__ = ["MLP"]


class MLP(NumpyModel):
    """``n_features → hidden… → n_classes`` classifier; He-initialised, cross-entropy loss."""

    kind = "mlp"

    def __init__(self, n_features: int, n_classes: int, hidden: tuple[int, ...] | list[int] = (64,),
                 l2: float = 0.0, seed: int = 0) -> None:
        if n_features < 1 or n_classes < 2 or l2 < 0 or any(h < 1 for h in hidden):
            raise ConfigError("mlp needs n_features >= 1, n_classes >= 2, hidden sizes >= 1")
        self.n_features, self.n_classes, self.l2 = n_features, n_classes, l2
        self.hidden = tuple(int(h) for h in hidden)
        super().__init__(seed)

    @property
    def _sizes(self) -> list[int]:
        return [self.n_features, *self.hidden, self.n_classes]

    def _init_weights(self, rng: np.random.Generator) -> Weights:
        w: Weights = {}
        sizes = self._sizes
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            w[f"layer{i}.weight"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
            w[f"layer{i}.bias"] = np.zeros(fan_out)
        return w

    def _forward(self, w: Weights,
                 x: NDArray[np.float64]) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
        acts = [x]
        h = x
        last = len(self._sizes) - 2
        for i in range(last + 1):
            h = h @ w[f"layer{i}.weight"] + w[f"layer{i}.bias"]
            if i < last:
                h = np.maximum(h, 0.0)
                acts.append(h)
        return h, acts

    def _loss_grad(self, w: Weights, x: NDArray[np.float64],
                   y: NDArray[Any]) -> tuple[float, Weights]:
        logits, acts = self._forward(w, x)
        loss, d = softmax_xent(logits, y)
        grads: Weights = {}
        for i in range(len(acts) - 1, -1, -1):
            wi = w[f"layer{i}.weight"]
            grads[f"layer{i}.weight"] = acts[i].T @ d + self.l2 * wi
            grads[f"layer{i}.bias"] = d.sum(axis=0)
            if i:
                d = (d @ wi.T) * (acts[i] > 0)
        if self.l2:
            loss += 0.5 * self.l2 * sum(float(np.sum(w[f"layer{i}.weight"] ** 2))
                                        for i in range(len(acts)))
        return loss, grads

    def predict_proba(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """Class probabilities (n, n_classes)."""
        logits, _ = self._forward(self.weights_, np.asarray(x, dtype=np.float64))
        return np.exp(log_softmax(logits))

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Class indices."""
        out: NDArray[Any] = self.predict_proba(x).argmax(axis=1)
        return out

    def _metrics(self, x: NDArray[np.float64], y: NDArray[Any]) -> dict[str, float]:
        logits, _ = self._forward(self.weights_, x)
        loss, _ = softmax_xent(logits, y)
        out = {"loss": loss, "accuracy": accuracy(y, logits.argmax(axis=1))}
        if self.n_classes == 2:
            auc = roc_auc(y, np.exp(log_softmax(logits))[:, 1])
            if auc is not None:
                out["auc"] = auc
        return out

    def describe(self) -> dict[str, Any]:
        """Kind and constructor arguments."""
        return {"kind": self.kind, "config": {"n_features": self.n_features,
                                              "n_classes": self.n_classes,
                                              "hidden": list(self.hidden), "l2": self.l2}}
