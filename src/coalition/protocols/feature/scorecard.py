"""Credit-scorecard points from a vertical LR on WOE-encoded bins.

The standard scaling (Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 6): a score of
``base_score`` points means good:bad odds of ``base_odds``, and every ``pdo`` points double the
odds. With ``factor = pdo / ln 2`` and ``offset = base_score - factor · ln(base_odds)``::

    score = offset + factor · ln(odds_good) = offset - factor · logit(p_bad)

The LR's logit is ``b + Σ_c w_c (x_c - μ_c) / σ_c`` over every party's encoded columns (the
LR standardises them), so the score splits exactly into a base (``offset - factor · b``, the
guest's) plus, per feature, the points of the bin a row falls in:
``points_k = -factor · Σ_{c of the feature} w_c (T[k, c] - μ_c) / σ_c``, where ``T[k]`` is what
bin ``k`` encodes to (its WOE, or its indicator). Riskier bins (positive WOE, events = bad)
earn fewer points.

Each party computes the points of its own features from its own weights; nothing is sent (a
host's points table stays on the host, like its weights and bins). In serving, the host's
linear partial score is the sum of its points up to the public ``-factor``, so the guest
obtains the total score from the usual partial results and learns nothing more than a
vertical LR prediction reveals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.protocols.feature.binning import bin_labels
from coalition.protocols.feature.woe_transform import encoded_bins
from coalition.protocols.linear import LinearModelPart

__all__ = ["BASE_FEATURE", "Scaling", "bin_points"]

BASE_FEATURE = "(base)"


@dataclass(frozen=True)
class Scaling:
    """``score = offset - factor · logit`` (module docstring)."""

    base_score: float
    base_odds: float
    pdo: float

    @property
    def factor(self) -> float:
        """Points per unit of log-odds: ``pdo / ln 2``."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """``base_score - factor · ln(base_odds)``."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def score(self, logit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Points from the LR's logit of the bad (event) class."""
        out: NDArray[np.float64] = self.offset - self.factor * logit
        return out

    def to_dict(self) -> dict[str, float]:
        """JSON form (stored in the model part)."""
        return {"base_score": self.base_score, "base_odds": self.base_odds, "pdo": self.pdo}


def _scaler(part: LinearModelPart) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = len(part.weights)
    if part.scaler.mean_ is None or part.scaler.scale_ is None:
        return np.zeros(n), np.ones(n)
    return part.scaler.mean_, part.scaler.scale_


def bin_points(woe: dict[str, Any], linear: LinearModelPart, scaling: Scaling
               ) -> list[tuple[str, int | None, str, float]]:
    """``(feature, bin, label, points)`` for every bin of every encoded feature, plus the base
    row on the party with the intercept. :class:`InputError` if the LR uses a column that no
    fitted WOE feature produces (the scorecard could not express it per bin)."""
    position = {c: i for i, c in enumerate(linear.feature_names)}
    mean, scale = _scaler(linear)
    covered: set[str] = set()
    rows: list[tuple[str, int | None, str, float]] = []
    if linear.intercept is not None:
        rows.append((BASE_FEATURE, None, "intercept",
                     scaling.offset - scaling.factor * linear.intercept))
    for name, spec in woe.items():
        cols, table = encoded_bins(name, spec)
        used = [(j, position[c]) for j, c in enumerate(cols) if c in position]
        if not used:
            continue  # dropped before the LR (selection)
        covered.update(cols[j] for j, _ in used)
        idx = np.array([p for _, p in used])
        enc = table[:, [j for j, _ in used]]
        logit = ((enc - mean[idx]) / scale[idx]) @ linear.weights[idx]
        points = -scaling.factor * logit
        rows.extend((name, k, label, float(points[k]))
                    for k, label in enumerate(bin_labels(spec["bins"])))
    stray = sorted(set(linear.feature_names) - covered)
    if stray:
        raise InputError("the LR uses columns that are not WOE-encoded bins", columns=stray)
    return rows
