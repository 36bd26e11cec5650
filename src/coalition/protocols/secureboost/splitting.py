"""Choosing splits from (G, H) sums: the guest's plaintext candidates and the best of many.

The guest scores its own features exactly, in plaintext, with the same candidate rules the
hosts apply to theirs (:func:`~coalition.protocols.secureboost.tree.candidate_table`), then
decodes every host's shuffled candidates and keeps the single best split of each node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coalition.protocols.secureboost.spec import SecureBoostParams
from coalition.protocols.secureboost.tree import candidate_table, split_gain

__all__ = ["Best", "best_candidate", "own_candidates"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class Best:
    """The winning candidate of one node: its owner, its index there, and its gain."""

    gain: float
    owner: str
    index: int


def own_candidates(bins: np.ndarray[Any, Any], g: FloatArray, h: FloatArray, missing_bin: int,
                   min_samples_leaf: int) -> tuple[IntArray, IntArray, Any, FloatArray, FloatArray]:
    """Candidates ``(feats, bins, missing_left)`` and their left sums ``(GL, HL)``.

    ``bins`` holds the node's sampled rows only; ``g``/``h`` are theirs.
    """
    n_feat, n_cols = bins.shape[1], missing_bin + 1
    gids = (bins.astype(np.int64) + np.arange(n_feat) * n_cols).ravel()
    size = n_feat * n_cols
    counts = np.bincount(gids, minlength=size).reshape(n_feat, n_cols).astype(np.int64)
    gh = _weighted(gids, np.repeat(g, n_feat), size).reshape(n_feat, n_cols)
    hh = _weighted(gids, np.repeat(h, n_feat), size).reshape(n_feat, n_cols)
    feats, bb, mleft = candidate_table(counts, missing_bin, min_samples_leaf)
    gp: FloatArray = np.cumsum(gh[:, :missing_bin], axis=1)
    hp: FloatArray = np.cumsum(hh[:, :missing_bin], axis=1)
    GL = gp[feats, bb] + np.where(mleft, gh[feats, missing_bin], 0.0)
    HL = hp[feats, bb] + np.where(mleft, hh[feats, missing_bin], 0.0)
    return feats, bb, mleft, GL, HL


def best_candidate(GL: FloatArray, HL: FloatArray, G: float, H: float,
                   params: SecureBoostParams) -> tuple[int, float] | tuple[None, float]:
    """Index and gain of the best admissible candidate (``None`` when none qualifies)."""
    if GL.size == 0:
        return None, -np.inf
    gains = split_gain(GL, HL, G, H, params.reg_lambda)
    mcw = params.min_child_weight
    ok = (mcw <= HL) & (mcw <= H - HL)
    gains = np.where(ok & np.isfinite(gains), gains, -np.inf)
    i = int(np.argmax(gains))
    if not np.isfinite(gains[i]) or gains[i] <= params.min_split_gain:
        return None, -np.inf
    return i, float(gains[i])


def _weighted(gids: IntArray, w: FloatArray, size: int) -> FloatArray:
    out: FloatArray = np.bincount(gids, weights=w, minlength=size).astype(np.float64)
    return out
