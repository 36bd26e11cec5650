"""Column transforms fitted on training rows and applied unchanged to any later table.

Per feature, in this order: outlier capping (numeric: clip to the training quantiles
``cap_quantiles``), imputation (``mean`` / ``median`` of the capped training values for numeric
columns, ``mode`` for any, ``constant``: ``fill_value`` or the text ``"missing"``), encoding of
text columns (``label``: the index of the category in the sorted training categories, ``-1`` for
a category unseen at training; ``onehot``: one 0/1 column ``feature=category`` per training
category, all zero for an unseen one) and scaling of numeric columns (``minmax`` to [0, 1],
``standard`` to mean 0 and standard deviation 1 over the training rows; a constant column is
only centred).

The fit is JSON (the model part's ``data``); :func:`apply_transform` needs nothing else, so
batch prediction and serving apply exactly what training fitted. Errors, not guesses: an
all-missing column cannot be imputed by mean, median or mode, and a text column left
unencoded raises when it would reach a numeric model.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from coalition.core.errors import InputError

__all__ = ["apply_transform", "fit_transform"]

Impute = Literal["none", "mean", "median", "mode", "constant"]
Encode = Literal["label", "onehot"]
Scale = Literal["none", "minmax", "standard"]


def _is_numeric(col: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(col.dtype)) or pd.api.types.is_bool_dtype(col.dtype)


def _fill(col: pd.Series, name: str, impute: Impute, fill_value: float, numeric: bool) -> Any:
    seen = col.dropna()
    if impute == "none":
        return None
    if impute == "constant":
        return fill_value if numeric else "missing"
    if seen.empty:
        raise InputError("an all-missing column cannot be imputed from its values (drop it, or "
                         "use impute: constant)", column=name)
    if impute == "mode" or not numeric:
        mode = seen.astype(np.float64 if numeric else str).mode().iloc[0]
        return float(mode) if numeric else str(mode)
    return float(seen.mean() if impute == "mean" else seen.median())


def fit_transform(frame: pd.DataFrame, columns: list[str], *, impute: Impute, fill_value: float,
                  encode: Encode, scale: Scale,
                  cap_quantiles: tuple[float, float] | None) -> dict[str, Any]:
    """The fitted transform of ``columns``: ``{feature: {kind, cap, fill, categories, center,
    factor}}`` (module docstring)."""
    out: dict[str, Any] = {}
    for name in columns:
        col = frame[name]
        if _is_numeric(col):
            x = col.astype(np.float64)
            cap = None
            if cap_quantiles is not None and x.notna().any():
                lo, hi = np.nanquantile(x, cap_quantiles)
                cap = [float(lo), float(hi)]
                x = x.clip(lo, hi)
            fill = _fill(x, name, impute, fill_value, True)
            x = x if fill is None else x.fillna(fill)
            center, factor = 0.0, 1.0
            if scale == "minmax" and x.notna().any():
                center = float(x.min())
                factor = float(x.max() - x.min()) or 1.0
            elif scale == "standard" and x.notna().any():
                center = float(x.mean())
                factor = float(x.std(ddof=0)) or 1.0
            out[name] = {"kind": "numeric", "cap": cap, "fill": fill, "center": center,
                         "factor": factor}
        else:
            fill = _fill(col.astype("object"), name, impute, fill_value, False)
            cats = sorted({str(v) for v in col.dropna()} | ({fill} if fill else set()))
            out[name] = {"kind": "categorical", "fill": fill, "encode": encode,
                         "categories": cats}
    return out


def apply_transform(fitted: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each fitted column replaced by its transform (other columns kept)."""
    absent = [f for f in fitted if f not in frame.columns]
    if absent:
        raise InputError("columns of the fitted transform are absent", columns=absent)
    out = frame.copy()
    for name, spec in fitted.items():
        col = frame[name]
        if spec["kind"] == "numeric":
            try:
                x = col.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError("a numeric column holds text", column=name) from exc
            if spec["cap"] is not None:
                x = x.clip(*spec["cap"])
            if spec["fill"] is not None:
                x = x.fillna(spec["fill"])
            out[name] = (x - spec["center"]) / spec["factor"]
            continue
        text = col.map(lambda v: None if pd.isna(v) else str(v))
        if spec["fill"] is not None:
            text = text.fillna(spec["fill"])
        index = {c: i for i, c in enumerate(spec["categories"])}
        if spec["encode"] == "label":
            out[name] = np.array([np.nan if v is None else index.get(v, -1) for v in text],
                                 dtype=np.float64)
        else:
            position = out.columns.get_loc(name)
            hot = pd.DataFrame({f"{name}={c}": (text == c).astype(np.float64)
                                for c in spec["categories"]}, index=out.index)
            out = pd.concat([out.iloc[:, :position], hot, out.iloc[:, position + 1:]], axis=1)
    return out
