"""Supervised binning of the label owner's numeric columns: ChiMerge and monotonic binning.

Both start from fine quantile bins (``fine`` levels, duplicates dropped) and merge adjacent
bins, so every edge is one of the fine quantile edges and the result is the same JSON as any
other numeric binning (:mod:`.binning`), applied unchanged later.

* ``chimerge`` (Kerber, *ChiMerge: Discretization of Numeric Attributes*, AAAI 1992): merge
  the adjacent pair with the smallest χ² statistic of its 2×2 (bin × class) table, an
  expected count of 0 taken as 0.1 as in the paper, until at most ``bins`` remain.
* ``monotonic``: first merge adjacent bins whose event rates break the monotone trend (the
  direction is the sign of the Pearson correlation between the values and the labels; pool
  adjacent violators, Ayer et al., *Ann. Math. Statist.* 1955), then ChiMerge down to
  ``bins``. Merging two neighbours of a monotone sequence keeps it monotone, so the event rate
  of the final bins is monotone in the value — the constraint scorecards want. This is a greedy
  heuristic, not the mixed-integer optimum of ``optbinning``.

They need the labels, so only the guest runs them (on its own features); a host's features are
binned without labels (quantile, equal width, categories).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["supervised_edges"]

FloatArray = NDArray[np.float64]


def _chi2(a: tuple[float, float], b: tuple[float, float]) -> float:
    rows = (a[0] + a[1], b[0] + b[1])
    cols = (a[0] + b[0], a[1] + b[1])
    total = rows[0] + rows[1]
    out = 0.0
    for i, obs in enumerate((a, b)):
        for j in range(2):
            expected = rows[i] * cols[j] / total if total else 0.0
            out += (obs[j] - expected) ** 2 / (expected if expected > 0 else 0.1)
    return out


def _merge(groups: list[tuple[float, float]], edges: list[float], j: int) -> None:
    groups[j] = (groups[j][0] + groups[j + 1][0], groups[j][1] + groups[j + 1][1])
    del groups[j + 1]
    del edges[j]


def _rate(g: tuple[float, float]) -> float:
    return g[0] / (g[0] + g[1])


def supervised_edges(x: FloatArray, y: FloatArray, method: Literal["chimerge", "monotonic"],
                     bins: int, fine: int = 50) -> list[float]:
    """Inner edges (right-closed bins) of the non-missing ``x`` against 0/1 labels ``y``."""
    seen = ~np.isnan(x)
    xs, ys = x[seen], y[seen]
    if xs.size == 0 or xs.min() == xs.max():
        return []
    cuts = np.unique(np.quantile(xs, np.linspace(0.0, 1.0, fine + 1)[1:-1]))
    edges = [float(e) for e in cuts if xs.min() <= e < xs.max()]
    codes = np.searchsorted(np.asarray(edges), xs, side="left")
    events = np.bincount(codes, weights=ys, minlength=len(edges) + 1)
    rows = np.bincount(codes, minlength=len(edges) + 1)
    groups = [(float(e), float(r - e)) for e, r in zip(events, rows, strict=True)]
    for j in reversed(range(len(groups))):  # interpolated edges can leave a fine bin empty
        if groups[j] == (0.0, 0.0) and len(groups) > 1:
            _merge(groups, edges, j - 1 if j == len(groups) - 1 else j)
    if method == "monotonic":
        up = np.corrcoef(xs, ys)[0, 1] >= 0 if ys.std() > 0 else True
        while True:
            rates = [_rate(g) for g in groups]
            bad = [j for j in range(len(groups) - 1)
                   if (rates[j] > rates[j + 1] if up else rates[j] < rates[j + 1])]
            if not bad:
                break
            _merge(groups, edges, bad[0])
    while len(groups) > bins:
        scores = [_chi2(groups[j], groups[j + 1]) for j in range(len(groups) - 1)]
        _merge(groups, edges, int(np.argmin(scores)))
    return edges
