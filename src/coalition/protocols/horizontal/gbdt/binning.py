"""Bin edges agreed without revealing a raw value: two secure sums of per-client counts.

1. **Range.** Every client counts its values per feature on a fixed, public log-scale grid
   (``t = sign(x)·log1p(|x|)`` cut into :data:`RANGE_CELLS` equal cells on ``[−T, T]``). The
   aggregate tells the aggregator the cells of each feature's global minimum and maximum,
   i.e. the range to a few per cent, as the min/max of the union (never whose).
2. **Sketch.** Every client counts its values on ``sketch_cells`` equal cells between those
   bounds; the aggregate is a fine histogram of the union, from which the edges are the
   ``k/max_bins`` quantiles (or the gaps between the values, when a feature has fewer
   distinct cells than bins), as in a federated quantile sketch.

What the aggregator learns: per feature, the union's coarse range and fine histogram (counts of
all clients together); the clients learn the edges. No single client's count is seen: both
vectors go through SecAgg. Edges are thresholds ``x ≤ edge`` applied identically when binning
and when scoring, so any choice of edges is consistent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RANGE_CELLS", "bin_rows", "edges_from_sketch", "range_counts", "range_from_counts",
           "sketch_counts"]

RANGE_CELLS = 1024
_T = 40.0  # log1p(|x|) ≤ 40 covers |x| < 2e17; larger values fall in the end cells

Floats = NDArray[np.float64]


def _symlog(x: Floats) -> Floats:
    out: Floats = np.sign(x) * np.log1p(np.abs(x))
    return out


def _symexp(t: Floats) -> Floats:
    out: Floats = np.sign(t) * np.expm1(np.abs(t))
    return out


def range_counts(x: Floats) -> Floats:
    """Per feature, the rows in each cell of the public log-scale grid (features × cells)."""
    width = 2 * _T / RANGE_CELLS
    cells = np.clip(((_symlog(x) + _T) / width).astype(np.int64), 0, RANGE_CELLS - 1)
    f = x.shape[1]
    flat = (cells + np.arange(f) * RANGE_CELLS).ravel()
    out: Floats = np.bincount(flat, minlength=f * RANGE_CELLS).astype(np.float64)
    return out.reshape(f, RANGE_CELLS)


def range_from_counts(counts: Floats, noise: float | None = None,
                      tail: float = 0.002) -> tuple[Floats, Floats]:
    """``(lo, hi)`` per feature: the outer boundaries of the first and last occupied cells, or,
    for counts with Gaussian noise of std ``noise``, of the cells holding the ``tail`` and
    ``1 − tail`` quantiles of the counts above 4.5 noise deviations (noise makes empty cells
    look occupied; values beyond the range fall in the end bins)."""
    width = 2 * _T / RANGE_CELLS
    lo, hi = np.zeros(counts.shape[0]), np.ones(counts.shape[0])
    for f, row in enumerate(counts):
        if noise is None:
            occupied = np.flatnonzero(row > 0.5)
        else:
            cum = np.cumsum(np.maximum(row - 4.5 * noise, 0.0))
            if not cum.size or cum[-1] <= 0:
                continue
            occupied = np.searchsorted(cum, [tail * cum[-1], (1 - tail) * cum[-1]])
        if occupied.size:
            lo[f] = _symexp(np.array(-_T + occupied[0] * width))
            hi[f] = _symexp(np.array(-_T + (min(occupied[-1], RANGE_CELLS - 1) + 1) * width))
    return lo, hi


def sketch_counts(x: Floats, lo: Floats, hi: Floats, cells: int) -> Floats:
    """Per feature, the rows in each of ``cells`` equal cells of ``[lo, hi]`` (features × cells)."""
    span = np.where(hi > lo, hi - lo, 1.0)
    idx = np.clip(((x - lo) / span * cells).astype(np.int64), 0, cells - 1)
    f = x.shape[1]
    flat = (idx + np.arange(f) * cells).ravel()
    out: Floats = np.bincount(flat, minlength=f * cells).astype(np.float64)
    return out.reshape(f, cells)


def edges_from_sketch(counts: Floats, lo: Floats, hi: Floats, max_bins: int, *,
                      noisy: bool = False) -> list[Floats]:
    """Per feature, at most ``max_bins − 1`` increasing thresholds from the union's histogram
    (for ``noisy`` counts always the quantiles, of their running-maximum cumulative sum)."""
    cells = counts.shape[1]
    edges = []
    for f, row in enumerate(counts):
        width = (hi[f] - lo[f]) / cells if hi[f] > lo[f] else 1.0
        occupied = np.flatnonzero(row > 0.5)
        if occupied.size <= max_bins and not noisy:
            centres = lo[f] + (occupied + 0.5) * width
            cuts: Floats = (centres[:-1] + centres[1:]) / 2
        else:
            # noisy counts: the running maximum keeps the cumulative sum monotone
            cum = np.maximum.accumulate(np.cumsum(row))
            targets = cum[-1] * np.arange(1, max_bins) / max_bins
            at = np.unique(np.searchsorted(cum, targets))
            at = at[at < cells - 1]
            cuts = lo[f] + (at + 1) * width
        edges.append(np.unique(cuts))
    return edges


def bin_rows(x: Floats, edges: list[Any]) -> NDArray[np.int64]:
    """Bin index of every value: the number of edges below it (``x ≤ edges[b]`` ⇔ bin ≤ b)."""
    out = np.empty(x.shape, dtype=np.int64)
    for f, e in enumerate(edges):
        out[:, f] = np.searchsorted(np.asarray(e, dtype=np.float64), x[:, f], side="left")
    return out
