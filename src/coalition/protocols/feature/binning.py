"""Unsupervised binning of one party's own columns, and applying fitted bins at predict time.

A fitted binning is plain JSON (the model part's ``data``), so the same bins apply unchanged in
batch prediction, offline scoring and online serving: :func:`apply_bins` maps a frame to bin
codes from it alone.

Numeric columns: ``quantile`` (inner edges at the levels ``1/b, …, (b-1)/b`` of the non-missing
values, numpy's linear interpolation, duplicates dropped) or ``equal_width`` (``b`` equal
intervals between min and max). Bin ``i`` holds ``edges[i-1] < x <= edges[i]`` (right-closed,
as pandas' ``cut``); values beyond the training range fall in the first or last bin. Missing
values have their own last bin. ``chimerge`` and ``monotonic`` (the label owner's columns
only) merge fine quantile bins against the labels (:mod:`.supervised`). A constant column
has one value bin; an all-missing column only the missing bin (both documented, not errors).

Categorical columns (text or listed in ``categorical``): one bin per category with at least
``min_category_count`` training rows (sorted by category); rarer categories and categories
unseen at training share the ``rare`` bin; missing values the missing bin.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.protocols.feature.supervised import supervised_edges

__all__ = ["apply_bins", "bin_labels", "fit_bins", "n_bins"]

IntArray = NDArray[np.int64]
Method = Literal["quantile", "equal_width", "chimerge", "monotonic"]


def _numeric_values(col: pd.Series, name: str) -> NDArray[np.float64]:
    try:
        out: NDArray[np.float64] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError("non-numeric column binned as numeric (list it in categorical)",
                         column=name) from exc
    return out


def _fit_numeric(values: NDArray[np.float64], method: Literal["quantile", "equal_width"],
                 bins: int) -> list[float]:
    seen = values[~np.isnan(values)]
    if seen.size == 0 or seen.min() == seen.max():
        return []
    if method == "quantile":
        edges = np.quantile(seen, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    else:
        edges = np.linspace(seen.min(), seen.max(), bins + 1)[1:-1]
    return [float(e) for e in np.unique(edges) if seen.min() <= e < seen.max()]


def fit_bins(frame: pd.DataFrame, columns: list[str], *, method: Method, bins: int,
             categorical: frozenset[str], min_category_count: int,
             labels: NDArray[np.float64] | None = None) -> dict[str, Any]:
    """Fitted bins of ``columns`` as JSON: ``{feature: {"kind", "edges" | "categories"}}``.

    ``labels`` (0/1, one per row) are needed by ``chimerge`` and ``monotonic`` only."""
    supervised = method in ("chimerge", "monotonic")
    if supervised and labels is None:
        raise InputError("supervised binning needs the labels (the guest's own columns only)")
    out: dict[str, Any] = {}
    for name in columns:
        col = frame[name]
        text = not (pd.api.types.is_numeric_dtype(col.dtype)
                    or pd.api.types.is_bool_dtype(col.dtype))
        if name in categorical or text:
            counts = col.dropna().astype(str).value_counts()
            cats = sorted(str(c) for c, k in counts.items() if k >= min_category_count)
            out[name] = {"kind": "categorical", "categories": cats}
        elif method == "quantile" or method == "equal_width":  # noqa: PLR1714 (mypy narrows ==)
            out[name] = {"kind": "numeric",
                         "edges": _fit_numeric(_numeric_values(col, name), method, bins)}
        elif labels is not None:
            out[name] = {"kind": "numeric", "edges": supervised_edges(
                _numeric_values(col, name), labels, method, bins)}
    return out


def n_bins(spec: dict[str, Any]) -> int:
    """Bins of one fitted feature, the missing bin (always last) included."""
    if spec["kind"] == "numeric":
        return len(spec["edges"]) + 2
    return len(spec["categories"]) + 2  # categories, rare, missing


def bin_labels(spec: dict[str, Any]) -> list[str]:
    """Human-readable bin names, in bin order (``(-inf, 1.5]``, ``paris``, ``rare``, ``missing``)."""
    if spec["kind"] == "categorical":
        return [*spec["categories"], "rare", "missing"]
    bounds = [-np.inf, *spec["edges"], np.inf]
    return [f"({lo:g}, {hi:g}]" for lo, hi in pairwise(bounds)] + ["missing"]


def apply_bins(fitted: dict[str, Any], frame: pd.DataFrame) -> dict[str, IntArray]:
    """Bin codes per fitted feature of ``frame``; :class:`InputError` if a column is absent."""
    missing = [f for f in fitted if f not in frame.columns]
    if missing:
        raise InputError("columns of the fitted binning are absent", columns=missing)
    out: dict[str, IntArray] = {}
    for name, spec in fitted.items():
        col = frame[name]
        last = n_bins(spec) - 1
        if spec["kind"] == "numeric":
            x = _numeric_values(col, name)
            codes = np.searchsorted(np.asarray(spec["edges"], dtype=np.float64), x, side="left")
            codes = np.where(np.isnan(x), last, codes)
        else:
            index = {c: i for i, c in enumerate(spec["categories"])}
            rare = len(index)
            codes = np.array([last if pd.isna(v) else index.get(str(v), rare) for v in col],
                             dtype=np.int64)
        out[name] = np.asarray(codes, dtype=np.int64)
    return out
