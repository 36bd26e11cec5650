"""Model state as named arrays, and its flat vector form used by strategies and SecAgg.

Model weights travel through the codec as ``{name: float64 array}``. Strategies, clipping and
secure aggregation work on one flat vector; :class:`ParamLayout` maps between the two in a fixed
order (sorted names) and validates everything a peer sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ProtocolError

__all__ = ["ParamLayout", "Vector", "Weights"]

Weights = dict[str, NDArray[np.float64]]
Vector = NDArray[np.float64]


@dataclass(frozen=True)
class ParamLayout:
    """Names and shapes of a model's parameters, in canonical (sorted) order."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, weights: Mapping[str, NDArray[Any]]) -> ParamLayout:
        """The layout of ``weights``."""
        names = tuple(sorted(weights))
        return cls(names, tuple(tuple(int(s) for s in weights[n].shape) for n in names))

    @property
    def size(self) -> int:
        """Number of scalar parameters."""
        return int(sum(int(np.prod(s, dtype=np.int64)) for s in self.shapes))

    def flatten(self, weights: Mapping[str, Any]) -> Vector:
        """One float64 vector; :class:`ProtocolError` on missing/extra names, wrong shapes,
        non-numeric or non-finite values (``weights`` may come from an untrusted peer)."""
        if not isinstance(weights, Mapping) or set(weights) != set(self.names):
            raise ProtocolError("model state has the wrong parameter names",
                                expected=list(self.names))
        parts = []
        for name, shape in zip(self.names, self.shapes, strict=True):
            arr = weights[name]
            if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiu":
                raise ProtocolError("parameter is not a numeric array", name=name)
            if tuple(arr.shape) != shape:
                raise ProtocolError("parameter has the wrong shape", name=name,
                                    expected=shape, got=tuple(arr.shape))
            parts.append(arr.astype(np.float64, copy=False).ravel())
        vec = np.concatenate(parts) if parts else np.zeros(0)
        if not np.isfinite(vec).all():
            raise ProtocolError("model state contains NaN or infinity")
        return vec

    def unflatten(self, vec: Vector) -> Weights:
        """Named arrays from a vector of length :attr:`size`."""
        if vec.shape != (self.size,):
            raise ProtocolError("vector length does not match the model", expected=self.size,
                                got=vec.shape)
        out: Weights = {}
        offset = 0
        for name, shape in zip(self.names, self.shapes, strict=True):
            n = int(np.prod(shape, dtype=np.int64))
            out[name] = vec[offset:offset + n].reshape(shape).copy()
            offset += n
        return out
