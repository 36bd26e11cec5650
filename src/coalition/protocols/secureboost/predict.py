"""Federated inference: hosts evaluate their own splits, the guest walks the trees.

Batch: each host sends, for every split it owns, one go-left bit per row (bit-packed); the
guest walks every tree with those bits and its own splits. The guest learns, per host split,
which side each row takes (as it does in training), never a threshold or a feature value;
hosts learn nothing (they receive no message). Online serving uses the same pieces for one
row: :meth:`HostSplit.go_left` on the host, :func:`row_path` on the guest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from coalition.core import Context, InputError, ProtocolError
from coalition.protocols.secureboost.spec import PREDICT_BITS
from coalition.protocols.secureboost.tree import GUEST_OWNER, Node, Tree, left_child, walk

__all__ = [
    "HostSplit",
    "guest_leaves",
    "host_go_left",
    "host_predict",
    "node_go_left",
    "pack_bits",
    "row_path",
    "unpack_bits",
]

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
SplitKey = tuple[int, int]


@dataclass(frozen=True)
class HostSplit:
    """A split kept by its host: ``x[feature] <= threshold`` goes left, NaN by default."""

    feature: int
    threshold: float
    default_left: bool

    def go_left(self, col: np.ndarray[Any, Any]) -> BoolArray:
        """Decision for a column of raw values."""
        out: BoolArray = np.where(np.isnan(col), self.default_left, col <= self.threshold)
        return out


def pack_bits(bits: BoolArray) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Eight rows per byte on the wire."""
    return np.packbits(np.asarray(bits, dtype=np.bool_))


def unpack_bits(packed: np.ndarray[Any, Any], n: int) -> BoolArray:
    """Inverse of :func:`pack_bits` for ``n`` rows."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim != 1 or packed.size != (n + 7) // 8:
        raise ProtocolError("bit vector length does not match the row count", rows=n)
    out: BoolArray = np.unpackbits(packed, count=n).astype(np.bool_)
    return out


def host_go_left(splits: Mapping[SplitKey, HostSplit],
                 X: np.ndarray[Any, Any]) -> dict[SplitKey, BoolArray]:
    """Go-left bits of every split in ``splits`` for every row of ``X``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError("features must be a 2-D array")
    for s in splits.values():
        if s.feature >= X.shape[1]:
            raise InputError("fewer feature columns than the model uses", needed=s.feature + 1)
    return {k: s.go_left(X[:, s.feature]) for k, s in splits.items()}


def host_predict(ctx: Context, splits: Mapping[SplitKey, HostSplit],
                 X: np.ndarray[Any, Any]) -> None:
    """Host side of batch inference: one message with all its bits to the guest."""
    keys = sorted(splits)
    bits = host_go_left(splits, X)
    n = int(np.asarray(X).shape[0])
    matrix = (np.stack([bits[k] for k in keys]) if keys
              else np.zeros((0, n), dtype=np.bool_))
    ctx.send(ctx.guest, PREDICT_BITS, {
        "keys": np.array(keys, dtype=np.int64).reshape(-1, 2),
        "bits": np.packbits(matrix, axis=1), "n_rows": n})


def node_go_left(node: Node, X: np.ndarray[Any, Any]) -> BoolArray:
    """Decision of a guest-owned node for every row of the guest's ``X``."""
    return HostSplit(node.feature, node.threshold, node.default_left).go_left(X[:, node.feature])


def guest_leaves(ctx: Context, trees: list[Tree], X: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Guest side of batch inference: leaf id per (row, tree)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    host_bits: dict[tuple[str, int, int], BoolArray] = {}
    for host in ctx.hosts:
        msg = ctx.recv(host, PREDICT_BITS)
        if int(msg["n_rows"]) != n:
            raise ProtocolError("host predicted a different number of rows", host=str(host))
        keys = np.asarray(msg["keys"], dtype=np.int64).reshape(-1, 2)
        matrix = np.unpackbits(np.asarray(msg["bits"], dtype=np.uint8), axis=1, count=n)
        for (t, nid), row in zip(keys.tolist(), matrix, strict=True):
            host_bits[(host.name, t, nid)] = row.astype(np.bool_)

    def go_left(t: int, node: Node) -> BoolArray:
        if node.owner == GUEST_OWNER:
            return node_go_left(node, X)
        found = host_bits.get((node.owner, t, node.id))
        if found is None:
            raise ProtocolError("a host sent no decision for its split",
                                host=node.owner, tree=t, node=node.id)
        return found

    return walk(trees, n, go_left)


def row_path(trees: list[Tree], x: np.ndarray[Any, Any],
             host_decisions: Mapping[tuple[str, int, int], bool]) -> list[list[int]]:
    """Nodes visited per tree for one row (online serving): ``host_decisions`` maps
    ``(host name, tree, node)`` to the host's go-left answer for this row."""
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    paths = []
    for t, tree in enumerate(trees):
        nid, path = 0, [0]
        while not tree.nodes[nid].is_leaf:
            node = tree.nodes[nid]
            if node.owner == GUEST_OWNER:
                left = bool(node_go_left(node, x)[0])
            else:
                left = bool(host_decisions[(node.owner, t, nid)])
            nid = left_child(nid) + (0 if left else 1)
            path.append(nid)
        paths.append(path)
    return paths
