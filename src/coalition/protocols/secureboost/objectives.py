"""Losses: first and second derivatives, initial scores and output transforms.

Scores are raw margins of shape ``(rows, k)``: ``k = 1`` for binary logistic and L2
regression, ``k = num_class`` for softmax (one tree per class per round, as XGBoost and
Friedman's multi-class gradient boosting do). Hessians match scikit-learn's
``HistGradientBoosting`` losses so that the two are comparable split for split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.core import InputError
from coalition.protocols.secureboost.spec import Objective

__all__ = ["gradients", "init_score", "loss", "transform", "validate_labels"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_EPS = 1e-15


def validate_labels(objective: Objective, y: np.ndarray[Any, Any], num_class: int) -> FloatArray:
    """Labels as float; class labels must be ``0..k-1``."""
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.size == 0 or not np.isfinite(y).all():
        raise InputError("labels must be a non-empty finite vector")
    if objective is not Objective.REGRESSION:
        k = 2 if objective is Objective.BINARY else num_class
        if not np.array_equal(y, np.rint(y)) or y.min() < 0 or y.max() >= k:
            raise InputError("class labels must be integers in 0..k-1", k=k)
    return y


def _softmax(s: FloatArray) -> FloatArray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def _sigmoid(s: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-s))
    return out


def init_score(objective: Objective, y: FloatArray, num_class: int) -> FloatArray:
    """Constant starting margin per output column."""
    if objective is Objective.BINARY:
        p = float(np.clip(y.mean(), _EPS, 1 - _EPS))
        return np.array([np.log(p / (1 - p))])
    if objective is Objective.MULTICLASS:
        prior = np.bincount(y.astype(np.int64), minlength=num_class) / y.size
        logp: FloatArray = np.log(np.clip(prior, _EPS, None))
        return logp
    return np.array([float(y.mean())])


def gradients(objective: Objective, y: FloatArray, score: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(g, h)`` of shape ``(rows, k)`` at the current margins."""
    if objective is Objective.BINARY:
        p = _sigmoid(score[:, 0])
        return (p - y)[:, None], (p * (1 - p))[:, None]
    if objective is Objective.MULTICLASS:
        p = _softmax(score)
        onehot = np.zeros_like(p)
        onehot[np.arange(y.size), y.astype(np.int64)] = 1.0
        return p - onehot, p * (1 - p)
    return (score[:, 0] - y)[:, None], np.ones((y.size, 1))


def transform(objective: Objective, score: FloatArray) -> FloatArray:
    """Probabilities of the positive class, class probabilities, or the regression value."""
    if objective is Objective.BINARY:
        return _sigmoid(score[:, 0])
    if objective is Objective.MULTICLASS:
        return _softmax(score)
    out: FloatArray = score[:, 0].copy()
    return out


def loss(objective: Objective, y: FloatArray, score: FloatArray) -> float:
    """Mean loss (log-loss, cross-entropy or squared error): the early-stopping criterion."""
    if objective is Objective.BINARY:
        p = np.clip(_sigmoid(score[:, 0]), _EPS, 1 - _EPS)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    if objective is Objective.MULTICLASS:
        p = np.clip(_softmax(score), _EPS, None)
        return float(-np.mean(np.log(p[np.arange(y.size), y.astype(np.int64)])))
    return float(np.mean((score[:, 0] - y) ** 2))
