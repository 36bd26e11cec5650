"""The boosted trees: heap-indexed arrays (node ``n`` has children ``2n+1`` and ``2n+2``), the
split search on aggregate histograms, and local scoring of raw rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import InputError

__all__ = ["ARTIFACT_FORMAT", "GBDTModel", "Split", "Tree", "best_split"]

ARTIFACT_FORMAT = "coalition.homo_gbdt.model/1"

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Split:
    """A chosen split: rows with ``bin ≤ bin_index`` (raw ``x ≤ threshold``) go left."""

    feature: int
    bin_index: int
    gain: float
    left: tuple[float, float]  # (G, H) of the left child
    right: tuple[float, float]


def best_split(hist: Floats, l2: float, min_samples_leaf: int, min_child_weight: float,
               allowed: NDArray[np.bool_] | None = None) -> Split | None:
    """The highest-gain split of one node from its ``features × bins × (g, h, count)``
    histogram, or ``None`` when no split has positive gain under the leaf constraints.
    ``allowed`` (features × bins − 1) marks the split points that exist (a feature with fewer
    edges than bins has empty high bins; with noisy sums they are not empty)."""
    g, h, c = (np.cumsum(hist[:, :, k], axis=1) for k in range(3))
    gt, ht, ct = g[:, -1:], h[:, -1:], c[:, -1:]
    gl, hl, cl = g[:, :-1], h[:, :-1], c[:, :-1]
    gr, hr, cr = gt - gl, ht - hl, ct - cl
    parent = gt[0, 0] ** 2 / (ht[0, 0] + l2)
    gain = gl**2 / (hl + l2) + gr**2 / (hr + l2) - parent
    ok = ((cl >= min_samples_leaf - 0.5) & (cr >= min_samples_leaf - 0.5)
          & (hl >= min_child_weight) & (hr >= min_child_weight))
    if allowed is not None:
        ok &= allowed
    gain = np.where(ok, gain, -np.inf)
    if gain.size == 0 or not np.isfinite(gain).any():
        return None
    f, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    if gain[f, b] <= 1e-12:
        return None
    return Split(int(f), int(b), float(gain[f, b]), (float(gl[f, b]), float(hl[f, b])),
                 (float(gr[f, b]), float(hr[f, b])))


@dataclass
class Tree:
    """One regression tree of depth at most ``depth``: ``feature < 0`` marks a leaf."""

    depth: int
    feature: NDArray[np.int64] = field(init=False)
    bin_index: NDArray[np.int64] = field(init=False)
    threshold: Floats = field(init=False)
    value: Floats = field(init=False)

    def __post_init__(self) -> None:
        size = 2 ** (self.depth + 1) - 1
        self.feature = np.full(size, -1, dtype=np.int64)
        self.bin_index = np.zeros(size, dtype=np.int64)
        self.threshold = np.zeros(size)
        self.value = np.zeros(size)

    def predict(self, x: Floats) -> Floats:
        """Leaf value of every row of raw features."""
        node = np.zeros(x.shape[0], dtype=np.int64)
        rows = np.arange(x.shape[0])
        for _ in range(self.depth):
            f = self.feature[node]
            inner = f >= 0
            left = x[rows, np.maximum(f, 0)] <= self.threshold[node]
            node = np.where(inner, 2 * node + np.where(left, 1, 2), node)
        out: Floats = self.value[node]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain values (codec- and JSON-friendly)."""
        return {"depth": self.depth, "feature": self.feature.tolist(),
                "bin": self.bin_index.tolist(), "threshold": self.threshold.tolist(),
                "value": self.value.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], n_features: int) -> Tree:
        """Inverse of :meth:`to_dict`; :class:`InputError` for a malformed tree."""
        try:
            tree = cls(int(data["depth"]))
            size = tree.feature.size
            tree.feature = np.asarray(data["feature"], dtype=np.int64).reshape(size)
            tree.bin_index = np.asarray(data["bin"], dtype=np.int64).reshape(size)
            tree.threshold = np.asarray(data["threshold"], dtype=np.float64).reshape(size)
            tree.value = np.asarray(data["value"], dtype=np.float64).reshape(size)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("malformed tree") from exc
        if not 1 <= tree.depth <= 16 or (tree.feature >= n_features).any() \
                or not np.isfinite(tree.value).all() or not np.isfinite(tree.threshold).all():
            raise InputError("malformed tree")
        return tree


@dataclass
class GBDTModel:
    """Base score plus the sum of the trees' leaf values, through the logistic function."""

    n_features: int
    base_score: float
    trees: list[Tree]
    edges: list[list[float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def decision_function(self, x: Floats) -> Floats:
        """Raw scores (log-odds) of rows."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise InputError("rows do not have the model's columns",
                             expected=self.n_features, got=x.shape[-1])
        out = np.full(x.shape[0], self.base_score)
        for tree in self.trees:
            out += tree.predict(x)
        return out

    def predict_proba(self, x: Floats) -> Floats:
        """Probability of class 1 of every row."""
        out: Floats = 1.0 / (1.0 + np.exp(-self.decision_function(x)))
        return out

    def to_artifact(self) -> dict[str, Any]:
        """Plain values only."""
        return {"format": ARTIFACT_FORMAT, "n_features": self.n_features,
                "base_score": self.base_score, "trees": [t.to_dict() for t in self.trees],
                "edges": [list(map(float, e)) for e in self.edges],
                "metrics": dict(self.metrics)}

    @classmethod
    def from_artifact(cls, data: Mapping[str, Any]) -> GBDTModel:
        """Inverse of :meth:`to_artifact`; :class:`InputError` if it is not one."""
        if not isinstance(data, Mapping) or data.get("format") != ARTIFACT_FORMAT:
            raise InputError("not a horizontal GBDT model artifact", expected=ARTIFACT_FORMAT)
        try:
            n = int(data["n_features"])
            trees = [Tree.from_dict(t, n) for t in data["trees"]]
            edges = [[float(v) for v in e] for e in data.get("edges", [])]
            metrics = {str(k): float(v) for k, v in data.get("metrics", {}).items()}
            return cls(n, float(data["base_score"]), trees, edges, metrics)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError("corrupt horizontal GBDT model artifact") from exc
