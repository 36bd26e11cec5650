"""Ring helpers of the interactive layer: products in Z_2^64 and checks of received shares."""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.core.errors import ProtocolError
from coalition.protocols.linear.fixedpoint import Ring

__all__ = ["field", "matmul"]


def matmul(a: Ring, b: Ring) -> Ring:
    """``a·b`` modulo 2^64 (numpy's integer matmul wraps around)."""
    return np.asarray(np.matmul(a, b), dtype=np.uint64)


def field(msg: Any, name: str, shape: tuple[int, ...]) -> Ring:
    """The ring matrix ``msg[name]`` of exactly ``shape``, or a typed protocol error."""
    value = msg.get(name) if isinstance(msg, dict) else None
    if not isinstance(value, np.ndarray) or value.dtype != np.uint64 or value.shape != shape:
        raise ProtocolError("malformed split-NN message", field=name)
    return value
