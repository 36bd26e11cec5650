"""Rebuild a numpy model from its ``describe()`` output (used to load model artifacts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coalition.core import ConfigError
from coalition.protocols.horizontal.models.base import NumpyModel
from coalition.protocols.horizontal.models.linear import LinearRegression, LogisticRegression
from coalition.protocols.horizontal.models.mlp import MLP

__all__ = ["build_model"]

_BUILDERS: dict[str, Callable[..., NumpyModel]] = {
    LogisticRegression.kind: LogisticRegression,
    LinearRegression.kind: LinearRegression,
    MLP.kind: MLP,
}


def build_model(description: Mapping[str, Any]) -> NumpyModel:
    """A fresh model of the described kind and configuration."""
    kind = description.get("kind")
    builder = _BUILDERS.get(str(kind))
    if builder is None:
        raise ConfigError("unknown or non-numpy model kind; load it with load_into()",
                          kind=kind, known=sorted(_BUILDERS))
    config = description.get("config", {})
    if not isinstance(config, Mapping):
        raise ConfigError("model config must be a mapping")
    try:
        return builder(**config)
    except TypeError as exc:
        raise ConfigError("model config does not match its kind", kind=kind) from exc
