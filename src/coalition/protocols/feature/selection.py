"""Feature selection by filters each party runs on its own columns, plus the guest's IV filter.

Filters (each optional, applied in this order, the first that drops a feature is its reason):
``manual_drop``; ``missing_rate_max``; ``unique_min`` (distinct non-missing values);
``variance_min`` (numeric columns, sample variance); ``iv_min`` (needs the guest's IV table from
``feature_binning``); ``pearson_max`` (local Pearson between the party's own remaining numeric
columns: walking features by descending IV — or table order without IV — a feature whose
``|r|`` with a kept one exceeds the threshold is dropped); ``cross_pearson_max`` (the guest's,
from ``feature_correlation``'s cross-party matrix: walking pairs by descending ``|r|``, the
lower-IV feature of a pair above the threshold is dropped unless one of the two already is);
``manual_keep`` overrides every filter.

Who learns what. Local filters run where the columns live and send nothing. The IV and
cross-party filters are the guest's: it sends each host the names of the host's own features
whose IV fell below ``iv_min`` and of those it drops for a cross-party correlation — one
label-derived bit per host feature and filter, as in FATE's hetero feature selection — and
nothing else. The guest learns nothing from hosts here.

The fitted selection is a model part ``{"keep": [feature, ...]}``; :func:`select_columns`
applies it unchanged to any later table (prediction, serving).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coalition.core import MessageKey
from coalition.core.context import Context
from coalition.core.errors import InputError, ProtocolError

__all__ = ["IV_DROPS", "cross_pearson_drops", "guest_send_iv_drops", "host_recv_iv_drops",
           "local_filters", "select_columns"]

IV_DROPS = MessageKey("fe_iv_drops", "guest -> host: {drop: [host feature whose IV < iv_min], "
                                     "correlated: [host feature dropped by cross_pearson_max]}")


def cross_pearson_drops(pairs: list[list[Any]], iv: dict[tuple[str, str], float],
                        threshold: float | None, dropped: set[tuple[str, str]]
                        ) -> set[tuple[str, str]]:
    """``(party, feature)`` dropped for a cross-party ``|r|`` above ``threshold``: ``pairs``
    are ``feature_correlation`` rows (guest party, guest feature, host party, host feature,
    r); ``iv`` by (party, feature); features already ``dropped`` by an earlier filter are
    neither dropped again nor kept because of a pair."""
    if threshold is None:
        return set()
    out: set[tuple[str, str]] = set()
    gone = set(dropped)
    for guest, g, host, h, r in sorted(pairs, key=lambda p: -abs(p[4] or 0.0)):
        a, b = (guest, g), (host, h)
        if r is None or abs(r) <= threshold or a in gone or b in gone:
            continue
        loser = a if iv.get(a, 0.0) < iv.get(b, 0.0) else b
        out.add(loser)
        gone.add(loser)
    return out


def local_filters(frame: pd.DataFrame, features: list[str], *, iv: dict[str, float],
                  iv_dropped: set[str], manual_keep: set[str], manual_drop: set[str],
                  cross_dropped: frozenset[str] = frozenset(),
                  missing_rate_max: float | None, unique_min: int | None,
                  variance_min: float | None, iv_min: float | None,
                  pearson_max: float | None) -> dict[str, str]:
    """``{feature: reason}`` — ``"kept"`` or the filter that dropped it (module docstring)."""
    reasons: dict[str, str] = {}
    for f in features:
        col = frame[f]
        numeric = pd.api.types.is_numeric_dtype(col.dtype)
        reason = "kept"
        if f in manual_drop:
            reason = "manual"
        elif missing_rate_max is not None and len(col) and col.isna().mean() > missing_rate_max:
            reason = "missing_rate"
        elif unique_min is not None and col.nunique(dropna=True) < unique_min:
            reason = "unique_values"
        elif variance_min is not None and numeric and not (
                col.dropna().astype(np.float64).var(ddof=1) >= variance_min):
            reason = "variance"
        elif f in iv_dropped or (iv_min is not None and f in iv and iv[f] < iv_min):
            reason = "iv"
        elif f in cross_dropped:
            reason = "cross_pearson"
        reasons[f] = reason
    if pearson_max is not None:
        candidates = [f for f in features if reasons[f] == "kept"
                      and pd.api.types.is_numeric_dtype(frame[f].dtype)]
        candidates.sort(key=lambda f: -iv.get(f, 0.0))
        kept: list[str] = []
        for f in candidates:
            x = frame[f].astype(np.float64)
            if any(abs(x.corr(frame[k].astype(np.float64))) > pearson_max for k in kept):
                reasons[f] = "pearson"
            else:
                kept.append(f)
    for f in manual_keep & set(features):
        reasons[f] = "kept"
    return reasons


def select_columns(model: dict[str, Any], frame: pd.DataFrame, keep_also: list[str]) -> pd.DataFrame:
    """The selected features (and ``keep_also``: id, label) of ``frame``, in training order."""
    keep = [str(f) for f in model["keep"]]
    absent = [f for f in keep if f not in frame.columns]
    if absent:
        raise InputError("selected columns are absent", columns=absent)
    return frame[[c for c in keep_also if c in frame.columns] + keep]


def guest_send_iv_drops(comm: Context, iv_rows: list[list[Any]], iv_min: float | None,
                        correlated: set[tuple[str, str]] | None = None) -> None:
    """Guest: each host's features with IV below ``iv_min`` and those dropped for a
    cross-party correlation (empty lists when none)."""
    for host in comm.hosts:
        drop = sorted(str(r[1]) for r in iv_rows
                      if r[0] == str(host) and iv_min is not None and r[3] < iv_min)
        corr = sorted(f for p, f in (correlated or set()) if p == str(host))
        comm.send(host, IV_DROPS, {"drop": drop, **({"correlated": corr} if corr else {})})


def host_recv_iv_drops(comm: Context, features: list[str]) -> tuple[set[str], set[str]]:
    """Host: the guest's IV and cross-correlation drops, which must name this party's own
    features only."""
    msg = comm.recv(comm.guest, IV_DROPS)
    drop, corr = (msg.get("drop"), msg.get("correlated", [])) if isinstance(msg, dict) \
        else (None, None)
    for names in (drop, corr):
        if not isinstance(names, list) or not all(isinstance(f, str) for f in names) \
                or not set(names) <= set(features):
            raise ProtocolError("malformed IV selection")
    return set(drop or []), set(corr or [])
