"""Tree structure and plaintext split arithmetic shared by the roles.

Nodes are heap-numbered (root 0, children ``2i+1`` / ``2i+2``), so every party can name a
node without sending structure. The guest's :class:`Tree` holds the structure, the owner of
every split and the leaf weights; for its own splits it also holds feature, threshold and
default direction. A host's split is only ``(tree, node) -> (feature, threshold, default)``
on the host (see ``host.py``). Gains follow XGBoost (Chen & Guestrin, KDD 2016, eq. 7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Node", "Tree", "candidate_table", "left_child", "split_gain", "walk"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
GUEST_OWNER = "guest"


def left_child(node: int) -> int:
    """Heap index of the left child (the right one is ``+1``)."""
    return 2 * node + 1


@dataclass
class Node:
    """One node of a guest-side tree. ``owner`` is ``"guest"`` or the owning host's name."""

    id: int
    is_leaf: bool = True
    weight: float = 0.0
    owner: str = GUEST_OWNER
    feature: int = -1
    threshold: float = float("nan")
    default_left: bool = False
    gain: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form for artifacts."""
        return {"id": self.id, "is_leaf": self.is_leaf, "weight": self.weight,
                "owner": self.owner, "feature": self.feature, "threshold": self.threshold,
                "default_left": self.default_left, "gain": self.gain}


@dataclass
class Tree:
    """Structure and leaf weights of one regression tree on output column ``klass``."""

    klass: int = 0
    nodes: dict[int, Node] = field(default_factory=lambda: {0: Node(0)})

    def split_nodes(self) -> list[Node]:
        """Internal nodes in heap order."""
        return [n for _, n in sorted(self.nodes.items()) if not n.is_leaf]

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form for artifacts."""
        return {"klass": self.klass, "nodes": [n.to_dict() for _, n in sorted(self.nodes.items())]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tree:
        """Inverse of :meth:`to_dict`."""
        nodes = {int(d["id"]): Node(**d) for d in data["nodes"]}
        return cls(klass=int(data["klass"]), nodes=nodes)


def split_gain(GL: FloatArray, HL: FloatArray, G: float, H: float, lam: float) -> FloatArray:
    """Loss reduction of splitting (G, H) into (GL, HL) and the rest."""
    GR, HR = G - GL, H - HL
    out: FloatArray = 0.5 * (GL**2 / (HL + lam) + GR**2 / (HR + lam) - G**2 / (H + lam))
    return out


def candidate_table(counts: IntArray, missing_bin: int,
                    min_samples_leaf: int) -> tuple[IntArray, IntArray, BoolArray]:
    """Valid split candidates of one node from its per-bin row counts ``(F, max_bin + 1)``.

    A candidate ``(feature, bin, missing_left)`` sends bins ``<= bin`` (and NaN when
    ``missing_left``) left. Empty bins are skipped (they repeat the previous threshold), as
    are splits leaving fewer than ``min_samples_leaf`` rows on either side; only the party
    that owns the feature evaluates this, on counts it already knows.
    """
    body = counts[:, :missing_bin]
    miss = counts[:, missing_bin]
    total = body.sum(axis=1) + miss
    prefix = np.cumsum(body, axis=1)
    feats, bins, mleft = [], [], []
    for with_missing in (False, True):
        left = prefix + (miss[:, None] if with_missing else 0)
        ok = (body > 0) & (left >= min_samples_leaf) & (total[:, None] - left >= min_samples_leaf)
        if with_missing:
            ok &= (miss > 0)[:, None]
        f, b = np.nonzero(ok)
        feats.append(f)
        bins.append(b)
        mleft.append(np.full(f.size, with_missing))
    return (np.concatenate(feats).astype(np.int64), np.concatenate(bins).astype(np.int64),
            np.concatenate(mleft).astype(np.bool_))


def walk(trees: list[Tree], n_rows: int,
         go_left: Callable[[int, Node], BoolArray]) -> IntArray:
    """Leaf id per (row, tree); ``go_left(t, node)`` gives the node's decision for all rows."""
    leaves = np.zeros((n_rows, len(trees)), dtype=np.int64)
    for t, tree in enumerate(trees):
        pos = np.zeros(n_rows, dtype=np.int64)
        for node in tree.split_nodes():
            here = pos == node.id
            if here.any():
                left = go_left(t, node)
                pos[here] = np.where(left[here], left_child(node.id), left_child(node.id) + 1)
        leaves[:, t] = pos
    return leaves
