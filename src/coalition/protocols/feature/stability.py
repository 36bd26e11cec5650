"""Population stability index (drift) of one party's columns between two tables.

Bins are fitted on the expected table (:mod:`coalition.protocols.feature.binning`, quantile by
default; categories, a rare bin and the missing bin as there) and applied to both;
``PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)`` over the bins' row shares ``e_i`` (expected) and
``a_i`` (actual), an empty share replaced by ``epsilon`` (1e-4). Common reading: below 0.1
stable, 0.1–0.25 some shift, above 0.25 a significant shift. Local: nothing is sent.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from coalition.protocols.feature.binning import apply_bins, fit_bins, n_bins

__all__ = ["psi_table"]

EPSILON = 1e-4


def psi_table(expected: pd.DataFrame, actual: pd.DataFrame, columns: list[str], *,
              method: Literal["quantile", "equal_width"], bins: int) -> list[tuple[Any, ...]]:
    """Rows ``(feature, bins, psi)`` and the fitted bins' per-bin shares (module docstring)."""
    fitted = fit_bins(expected, columns, method=method, bins=bins, categorical=frozenset(),
                      min_category_count=1)
    e_codes, a_codes = apply_bins(fitted, expected), apply_bins(fitted, actual)
    rows: list[tuple[Any, ...]] = []
    for f in columns:
        k = n_bins(fitted[f])
        e = np.bincount(e_codes[f], minlength=k) / max(len(expected), 1)
        a = np.bincount(a_codes[f], minlength=k) / max(len(actual), 1)
        e, a = np.maximum(e, EPSILON), np.maximum(a, EPSILON)
        rows.append((f, k, float(sum((ai - ei) * math.log(ai / ei)
                                     for ai, ei in zip(a, e, strict=True)))))
    return rows
