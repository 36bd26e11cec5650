"""The WOE transform: each binned feature becomes its bin's WOE (guest) or bin indicators (host).

A fitted transform is plain JSON (the model part's ``data``), so :func:`apply_woe_transform`
applies it unchanged in batch prediction, offline scoring and online serving. Per feature:

* ``woe`` (the guest's own features, the default there): one column, same name, holding the
  WOE of the row's bin from ``feature_binning`` (a bin without training rows gets 0, the
  neutral WOE);
* ``onehot`` (every host feature; optional for the guest): one 0/1 column ``feature=binK`` per
  bin that held training rows (a value in an empty bin gets all zeros).

Why hosts do not get WOE. The WOE of a host bin is a function of the guest's labels, and the
host must not receive an unencrypted label-derived value; the guest knows each host bin's WOE
only in a secret shuffled order (:mod:`.woe`) and must not learn a row's bin. So a host's
features enter the vertical LR as bin indicators: the LR then learns one weight per host bin,
which plays the role of ``β·WOE`` (the WOE-coded and the indicator-coded models span the same
per-bin step functions; with indicators the LR fits each step directly). The host learns its own
weights, as every party of a vertical LR does (``docs/linear.md``), nothing else; the guest
learns nothing new. The transform itself is local: nothing is sent.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.protocols.feature.binning import apply_bins, n_bins

__all__ = ["apply_woe_transform", "encoded_bins", "fit_woe_transform", "onehot_name"]

Encoding = Literal["woe", "onehot"]


def onehot_name(feature: str, bin_index: int) -> str:
    """The indicator column of one bin."""
    return f"{feature}=bin{bin_index}"


def fit_woe_transform(bins: dict[str, Any], woe: dict[str, list[float | None]],
                      counts: dict[str, NDArray[np.int64]], features: list[str],
                      encoding: Encoding) -> dict[str, Any]:
    """``{feature: {"bins": spec, "encoding", "woe" | "keep"}}`` for the binned ``features``.

    ``woe`` holds the party's own WOE per bin (the guest's, from ``feature_binning``); a party
    without WOE for a feature (a host) always gets ``onehot``. ``counts`` are training rows
    per bin (which indicator columns to keep).
    """
    out: dict[str, Any] = {}
    for name in features:
        spec = bins[name]
        own = woe.get(name)
        if encoding == "woe" and own is not None:
            if len(own) != n_bins(spec):
                raise InputError("the WOE table does not match the bins", feature=name)
            out[name] = {"bins": spec, "encoding": "woe",
                         "woe": [0.0 if w is None else float(w) for w in own]}
        else:
            keep = [int(i) for i in np.flatnonzero(counts[name] > 0)]
            out[name] = {"bins": spec, "encoding": "onehot", "keep": keep}
    return out


def encoded_bins(name: str, spec: dict[str, Any]) -> tuple[list[str], NDArray[np.float64]]:
    """The output columns of one fitted feature and its ``(bins, columns)`` value matrix: row
    ``k`` is what a value in bin ``k`` becomes (the transform is a table lookup)."""
    k = n_bins(spec["bins"])
    if spec["encoding"] == "woe":
        return [name], np.asarray(spec["woe"], dtype=np.float64).reshape(k, 1)
    keep = [int(i) for i in spec["keep"]]
    table = np.zeros((k, len(keep)))
    for j, i in enumerate(keep):
        table[i, j] = 1.0
    return [onehot_name(name, i) for i in keep], table


def apply_woe_transform(fitted: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every fitted feature replaced by its encoded column(s), in place; other
    columns kept. :class:`InputError` when a fitted column is absent."""
    codes = apply_bins({f: s["bins"] for f, s in fitted.items()}, frame)
    parts: list[pd.DataFrame | pd.Series] = []
    for col in frame.columns:
        spec = fitted.get(str(col))
        if spec is None:
            parts.append(frame[col])
            continue
        names, table = encoded_bins(str(col), spec)
        parts.append(pd.DataFrame(table[codes[str(col)]], columns=names, index=frame.index))
    return pd.concat(parts, axis=1) if parts else frame.copy()
