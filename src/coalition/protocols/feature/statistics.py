"""Federated statistics: each party summarises its own columns where the data lives.

Every statistic is computed by the party that holds the column, over its own rows; only the
aggregate table may leave, and only when the owner's own parameters say so
(``share_with_guest``, host side). The minimum-count rule ``k`` (``min_count``) holds before
anything is computed: a column with fewer than ``k`` non-missing values has every value
statistic suppressed (``null``, ``suppressed = true``); a table of fewer than ``k`` rows has
its missing rate and distinct count suppressed too; a top value is listed only when it occurs
at least ``k`` times.

Column handling (documented, never an error): numeric columns (pandas numeric or boolean
dtypes) get mean, sample standard deviation (ddof 1), min, max, quantiles (numpy's linear
interpolation), skewness and excess kurtosis (pandas' bias-corrected estimators; ``null`` when
undefined: fewer than 3 or 4 values, or a constant column); text and other columns are
``categorical``: count, missing rate, distinct count and top values only. An all-missing column
is reported with ``count = 0``, ``missing_rate = 1`` and suppressed statistics; a constant
column has ``std = 0`` and ``null`` skewness and kurtosis.

Who learns what. Nobody learns anything when ``share_with_guest`` is false (the table stays in
the party's own report). When a host shares, the guest learns that host's table: per-column
aggregates over at least ``k`` values, and — unless ``include_extremes`` is false or
``top_values`` is 0 — the column's minimum and maximum (one row's value each) and values that
occur at least ``k`` times. The host learns nothing from the guest (nothing is sent to it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coalition.core.context import Context
from coalition.core.errors import ProtocolError
from coalition.protocols.feature.spec import STATS_SUMMARY, StatisticsParams
from coalition.protocols.feature.tables import Table, json_cell

__all__ = ["STAT_COLUMNS", "column_statistics", "guest_collect", "host_share", "stat_columns"]

#: Columns of the statistics table before the quantile columns (``q0.25``, ...) and the tail.
_HEAD = ("feature", "type", "rows", "count", "missing_rate", "distinct", "mean", "std", "min",
         "max")
_TAIL = ("skew", "kurtosis", "top_values", "suppressed")
STAT_COLUMNS = (*_HEAD, *_TAIL)


def stat_columns(quantiles: tuple[float, ...]) -> tuple[str, ...]:
    """The table's columns for the given quantile levels."""
    return (*_HEAD, *(f"q{q:g}" for q in quantiles), *_TAIL)


def _is_numeric(col: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(col.dtype)) or pd.api.types.is_bool_dtype(col.dtype)


def _top(col: pd.Series, p: StatisticsParams) -> list[list[Any]]:
    if p.top_values == 0:
        return []
    counts = col.dropna().value_counts(sort=True)
    counts = counts[counts >= p.min_count].head(p.top_values)
    return [[json_cell(v) if isinstance(v, int | float | bool | np.generic) else str(v), int(c)]
            for v, c in counts.items()]


def _row(name: str, col: pd.Series, p: StatisticsParams) -> tuple[Any, ...]:
    rows, count = len(col), int(col.notna().sum())
    numeric = _is_numeric(col)
    enough_rows = rows >= p.min_count
    ok = count >= p.min_count
    values = col.dropna().astype(np.float64) if numeric and ok else None
    stats: dict[str, Any] = dict.fromkeys(("mean", "std", "min", "max", "skew", "kurtosis"))
    quants: list[Any] = [None] * len(p.quantiles)
    if values is not None:
        arr = values.to_numpy()
        constant = bool(arr.min() == arr.max())
        stats.update(mean=float(arr.mean()), std=float(arr.std(ddof=1)) if arr.size > 1 else None)
        if p.include_extremes:
            stats.update(min=float(arr.min()), max=float(arr.max()))
        if not constant:
            stats.update(skew=json_cell(float(values.skew())),
                         kurtosis=json_cell(float(values.kurt())))
        quants = [float(v) for v in np.quantile(arr, p.quantiles)] if p.quantiles else []
    return (name, "numeric" if numeric else "categorical", rows, count,
            (1.0 - count / rows if rows else None) if enough_rows else None,
            int(col.nunique(dropna=True)) if enough_rows and ok else None,
            stats["mean"], stats["std"], stats["min"], stats["max"], *quants,
            stats["skew"], stats["kurtosis"], _top(col, p) if ok else [], not ok)


def column_statistics(frame: pd.DataFrame, columns: list[str], p: StatisticsParams,
                      party: str) -> Table:
    """One party's statistics table over ``columns`` of ``frame`` (see the module docstring)."""
    return Table("statistics", party, stat_columns(p.quantiles),
                 tuple(_row(c, frame[c], p) for c in columns))


def host_share(comm: Context, table: Table, p: StatisticsParams) -> None:
    """Host: send the aggregate table to the guest when this party's parameters allow it,
    else a refusal (so the guest never waits on a host that keeps its table)."""
    payload: dict[str, Any] = {"shared": p.share_with_guest}
    if p.share_with_guest:
        d = table.to_dict()
        payload.update(columns=d["columns"], rows=d["rows"])
    comm.send(comm.guest, STATS_SUMMARY, payload)


def _cell_ok(v: Any) -> bool:
    if v is None or isinstance(v, bool | int | float | str):
        return True
    return isinstance(v, list) and all(
        isinstance(pair, list) and len(pair) == 2 and _cell_ok(pair[0])
        and isinstance(pair[1], int) for pair in v)


def guest_collect(comm: Context) -> list[Table]:
    """Guest: every sharing host's table (checked for shape; a malformed one is refused)."""
    out: list[Table] = []
    for host in comm.hosts:
        msg = comm.recv(host, STATS_SUMMARY)
        if not isinstance(msg, dict) or not isinstance(msg.get("shared"), bool):
            raise ProtocolError("malformed statistics summary", party=str(host))
        if not msg["shared"]:
            continue
        columns, rows = msg.get("columns"), msg.get("rows")
        if (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
                or not isinstance(rows, list)
                or not all(isinstance(r, list) and len(r) == len(columns)
                           and all(_cell_ok(c) for c in r) for r in rows)):
            raise ProtocolError("malformed statistics summary", party=str(host))
        out.append(Table("statistics", str(host), tuple(columns),
                         tuple(tuple(r) for r in rows)))
    return out
