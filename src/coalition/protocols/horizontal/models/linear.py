"""Logistic (binary or softmax) and linear regression as numpy models."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, InputError
from coalition.protocols.horizontal.models.base import NumpyModel
from coalition.protocols.horizontal.models.metrics import accuracy, roc_auc
from coalition.protocols.horizontal.weights import Weights

__all__ = ["LinearRegression", "LogisticRegression", "log_softmax", "softmax_xent"]


def log_softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise log-softmax, stable for large logits."""
    z = z - z.max(axis=1, keepdims=True)
    out: NDArray[np.float64] = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


def softmax_xent(logits: NDArray[np.float64],
                 y: NDArray[Any]) -> tuple[float, NDArray[np.float64]]:
    """Mean cross-entropy and its gradient w.r.t. the logits (labels are class indices)."""
    labels = _class_indices(y, logits.shape[1])
    logp = log_softmax(logits)
    n = logits.shape[0]
    loss = float(-logp[np.arange(n), labels].mean())
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1.0
    return loss, d / n


def _class_indices(y: NDArray[Any], n_classes: int) -> NDArray[np.int64]:
    labels = np.asarray(y).astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InputError("labels must be class indices 0..n_classes-1", n_classes=n_classes)
    return labels


class LogisticRegression(NumpyModel):
    """Binary (sigmoid) or multinomial (softmax) logistic regression with optional L2."""

    kind = "logistic_regression"

    def __init__(self, n_features: int, n_classes: int = 2, l2: float = 0.0,
                 seed: int = 0) -> None:
        if n_features < 1 or n_classes < 2 or l2 < 0:
            raise ConfigError("logistic regression needs n_features >= 1, n_classes >= 2, l2 >= 0")
        self.n_features, self.n_classes, self.l2 = n_features, n_classes, l2
        super().__init__(seed)

    @property
    def _binary(self) -> bool:
        return self.n_classes == 2

    def _init_weights(self, rng: np.random.Generator) -> Weights:
        width = 1 if self._binary else self.n_classes
        return {"weight": np.zeros((self.n_features, width)), "bias": np.zeros(width)}

    def _logits(self, w: Weights, x: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = x @ w["weight"] + w["bias"]
        return out

    def _loss_grad(self, w: Weights, x: NDArray[np.float64],
                   y: NDArray[Any]) -> tuple[float, Weights]:
        z = self._logits(w, x)
        if self._binary:
            t = _class_indices(y, 2).astype(np.float64)[:, None]
            loss = float(np.mean(np.logaddexp(0.0, z) - t * z))
            d = (1.0 / (1.0 + np.exp(-z)) - t) / x.shape[0]
        else:
            loss, d = softmax_xent(z, y)
        loss += 0.5 * self.l2 * float(np.sum(w["weight"] ** 2))
        return loss, {"weight": x.T @ d + self.l2 * w["weight"], "bias": d.sum(axis=0)}

    def predict_proba(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """P(y=1) for binary models, class probabilities (n, k) otherwise."""
        z = self._logits(self.weights_, np.asarray(x, dtype=np.float64))
        if self._binary:
            out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return out
        return np.exp(log_softmax(z))

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Class indices."""
        p = self.predict_proba(x)
        return (p >= 0.5).astype(np.int64) if self._binary else p.argmax(axis=1)

    def _metrics(self, x: NDArray[np.float64], y: NDArray[Any]) -> dict[str, float]:
        loss, _ = self._loss_grad(self.weights_, x, y)
        p = self.predict_proba(x)
        out = {"loss": loss, "accuracy": accuracy(y, self.predict(x))}
        if self._binary:
            auc = roc_auc(y, p)
            if auc is not None:
                out["auc"] = auc
        return out

    def describe(self) -> dict[str, Any]:
        """Kind and constructor arguments."""
        return {"kind": self.kind, "config": {"n_features": self.n_features,
                                              "n_classes": self.n_classes, "l2": self.l2}}


class LinearRegression(NumpyModel):
    """Least-squares linear regression (loss ``½·mean((xw + b − y)²)``) with optional L2."""

    kind = "linear_regression"

    def __init__(self, n_features: int, l2: float = 0.0, seed: int = 0) -> None:
        if n_features < 1 or l2 < 0:
            raise ConfigError("linear regression needs n_features >= 1 and l2 >= 0")
        self.n_features, self.l2 = n_features, l2
        super().__init__(seed)

    def _init_weights(self, rng: np.random.Generator) -> Weights:
        return {"weight": np.zeros(self.n_features), "bias": np.zeros(1)}

    def _loss_grad(self, w: Weights, x: NDArray[np.float64],
                   y: NDArray[Any]) -> tuple[float, Weights]:
        r = x @ w["weight"] + w["bias"][0] - np.asarray(y, dtype=np.float64)
        loss = 0.5 * float(np.mean(r * r)) + 0.5 * self.l2 * float(np.sum(w["weight"] ** 2))
        n = x.shape[0]
        return loss, {"weight": x.T @ r / n + self.l2 * w["weight"],
                      "bias": np.array([r.sum() / n])}

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Predicted values."""
        w = self.weights_
        out: NDArray[np.float64] = np.asarray(x, dtype=np.float64) @ w["weight"] + w["bias"][0]
        return out

    def _metrics(self, x: NDArray[np.float64], y: NDArray[Any]) -> dict[str, float]:
        r = self.predict(x) - np.asarray(y, dtype=np.float64)
        mse = float(np.mean(r * r))
        return {"loss": 0.5 * mse, "mse": mse, "mae": float(np.mean(np.abs(r)))}

    def describe(self) -> dict[str, Any]:
        """Kind and constructor arguments."""
        return {"kind": self.kind, "config": {"n_features": self.n_features, "l2": self.l2}}
