"""Parameters and message keys of the feature-engineering protocols."""

from __future__ import annotations

from pydantic import Field, field_validator

from coalition.core import MessageKey
from coalition.core.params import Params

__all__ = ["STATS_SUMMARY", "StatisticsParams"]

STATS_SUMMARY = MessageKey(
    "fe_stats_summary",
    "host -> guest: {shared: bool, rows: [[...]]} per-column aggregates under the k rule")


class StatisticsParams(Params):
    """What one party computes about its own columns, and whether it shares the aggregates."""

    params_of = "feature statistics"

    min_count: int = Field(10, ge=1, description=(
        "minimum-count rule k: no statistic is computed over fewer than k rows (the column's "
        "statistics are suppressed) and no top value with fewer than k occurrences is shown"))
    quantiles: tuple[float, ...] = Field((0.25, 0.5, 0.75), description=(
        "quantile levels in [0, 1] for numeric columns (linear interpolation, numpy's default)"))
    top_values: int = Field(5, ge=0, le=100, description=(
        "most frequent values listed per column (each with at least min_count occurrences)"))
    include_extremes: bool = Field(True, description=(
        "report min and max (each is one row's value; set false where that is too much)"))
    share_with_guest: bool = Field(False, description=(
        "host only: send this party's aggregate table (never a row) to the guest, whose "
        "report then holds every party's table; the host's own parameter decides"))

    @field_validator("quantiles")
    @classmethod
    def _levels(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0.0 <= q <= 1.0 for q in v):
            raise ValueError("quantile levels must lie in [0, 1]")
        return tuple(sorted(set(v)))
