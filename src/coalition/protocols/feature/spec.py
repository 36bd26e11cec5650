"""Parameters and message keys of the feature-engineering protocols."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, field_validator, model_validator

from coalition.core import MessageKey
from coalition.core.params import ParamConflict, Params
from coalition.crypto.suite import CryptoSuite

__all__ = ["GROUP_INDICATORS", "GROUP_SUMS", "MAX_SAMPLE_FRACTION", "MIN_GROUP_COUNT",
           "STATS_SUMMARY", "BinningParams", "GroupByParams", "SampleParams", "ScorecardParams",
           "SelectionParams", "StabilityParams", "StatisticsParams", "TransformParams",
           "WoeParams", "CorrelationParams", "class_key"]

MAX_SAMPLE_FRACTION = 100.0

STATS_SUMMARY = MessageKey(
    "fe_stats_summary",
    "host -> guest: {shared: bool, rows: [[...]]} per-column aggregates under the k rule")


def class_key(label: float) -> str:
    """A label class as ``class_fractions`` names it: ``"1"`` for 1.0, ``"0.5"`` for 0.5."""
    return str(int(label)) if float(label).is_integer() else repr(float(label))


class SampleParams(Params):
    """Fraction and stratification of the sample (``feature_sample``)."""

    params_of = "feature sample"

    fraction: float = Field(0.5, gt=0.0, le=MAX_SAMPLE_FRACTION, description=(
        "rows kept per class (stratified) or overall: < 1 down-samples without replacement, "
        "> 1 up-samples with replacement"))
    stratified: bool = Field(True, description="the same fraction from every label class")
    class_fractions: dict[str, float] | None = Field(None, max_length=1000, description=(
        "class-dependent up/down-sampling: per label class (its value as text, e.g. \"1\"), "
        "its own fraction instead of 'fraction' (< 1 without, > 1 with replacement). Label-"
        "dependent: hosts learn about labels from the positions, so the label owner's node "
        "allows it only with allow_label_sampling (policy.label_sampling)"))
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the draw's PRG: standard (ChaCha20) or sm (SM4-CTR); set by the "
        "federation"))

    @field_validator("class_fractions")
    @classmethod
    def _class_fractions(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and not all(0.0 < f <= MAX_SAMPLE_FRACTION for f in v.values()):
            raise ValueError(f"class fractions must be in (0, {MAX_SAMPLE_FRACTION:g}]")
        return v

    @model_validator(mode="after")
    def _stratified(self) -> SampleParams:
        if self.class_fractions and not self.stratified:
            raise ParamConflict("class_fractions samples per class: it needs stratified: true",
                                "class_fractions", "stratified")
        return self

    def label_dependent(self) -> bool:
        """Whether the draw depends on the labels beyond stratification."""
        return bool(self.class_fractions) and any(
            f != self.fraction for f in (self.class_fractions or {}).values())


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


class BinningParams(Params):
    """How each party bins its own columns, and whether the guest learns WOE/IV of host bins."""

    params_of = "feature binning"

    method: Literal["quantile", "equal_width", "chimerge", "monotonic"] = Field(
        "quantile", description=(
            "numeric columns: equal-frequency quantiles, equal-width intervals, or (the "
            "guest's own columns, against its labels) ChiMerge / monotonic event rate"))
    bins: int = Field(10, ge=2, le=1000, description="numeric bins before duplicates are dropped")
    categorical: tuple[str, ...] = Field((), description=(
        "columns binned by category even if numeric (text columns always are)"))
    min_category_count: int = Field(10, ge=1, description=(
        "categories with fewer training rows share the 'rare' bin (as do unseen ones)"))
    compute_iv: bool = Field(True, description=(
        "guest: WOE and IV of its own bins and (encrypted exchange) of every host's bins; "
        "set the same on every party of the task"))
    key_bits: int = Field(2048, ge=512, description="Paillier modulus bits of the guest's key")
    allow_insecure_key: bool = Field(False, description="permit keys under 2048 bits (tests)")

    @model_validator(mode="after")
    def _key(self) -> BinningParams:
        if self.key_bits < 2048 and not self.allow_insecure_key:
            raise ParamConflict("key_bits < 2048 requires allow_insecure_key=True",
                                "key_bits", "allow_insecure_key")
        return self


class SelectionParams(Params):
    """Filters of ``feature_selection`` (each off unless set)."""

    params_of = "feature selection"

    iv_min: float | None = Field(None, ge=0.0, description=(
        "guest: drop features (own and hosts') whose IV is below this (needs the iv input)"))
    missing_rate_max: float | None = Field(None, ge=0.0, le=1.0, description=(
        "drop features with a larger share of missing values"))
    variance_min: float | None = Field(None, ge=0.0, description=(
        "drop numeric features whose sample variance is below this (constant columns)"))
    unique_min: int | None = Field(None, ge=1, description=(
        "drop features with fewer distinct non-missing values"))
    pearson_max: float | None = Field(None, gt=0.0, le=1.0, description=(
        "drop own numeric features whose |Pearson r| with a kept one (higher IV first) exceeds this"))
    cross_pearson_max: float | None = Field(None, gt=0.0, le=1.0, description=(
        "guest: of a guest and a host feature whose |Pearson r| (feature_correlation's "
        "report, the correlation input) exceeds this, drop the one with the lower IV"))
    manual_keep: tuple[str, ...] = Field((), description="always kept (overrides every filter)")
    manual_drop: tuple[str, ...] = Field((), description="always dropped")


class TransformParams(Params):
    """Capping, imputation, encoding and scaling of every feature column."""

    params_of = "feature transform"

    impute: Literal["none", "mean", "median", "mode", "constant"] = Field("none", description=(
        "missing values: training mean / median (numeric), mode, or a constant"))
    fill_value: float = Field(0.0, description="numeric constant for impute: constant")
    encode: Literal["label", "onehot"] = Field("label", description=(
        "text columns: category index (-1 unseen) or one 0/1 column per training category"))
    scale: Literal["none", "minmax", "standard"] = Field("none", description=(
        "numeric columns: to [0, 1] or to mean 0, std 1 over the training rows"))
    cap_quantiles: tuple[float, float] | None = Field(None, description=(
        "numeric columns: clip to these training quantiles (outlier capping), e.g. [0.01, 0.99]"))

    @field_validator("cap_quantiles")
    @classmethod
    def _caps(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not 0.0 <= v[0] < v[1] <= 1.0:
            raise ValueError("cap quantiles must satisfy 0 <= low < high <= 1")
        return v


class StabilityParams(Params):
    """Bins of the population stability index."""

    params_of = "population stability"

    method: Literal["quantile", "equal_width"] = Field("quantile", description=(
        "numeric bins fitted on the expected table"))
    bins: int = Field(10, ge=2, le=1000, description="numeric bins before duplicates are dropped")


class WoeParams(Params):
    """How ``feature_woe`` encodes each binned feature (hosts always use bin indicators)."""

    params_of = "WOE transform"

    encoding: Literal["woe", "onehot"] = Field("woe", description=(
        "guest: each own feature becomes its bin's WOE (one column) or one 0/1 column per "
        "bin; hosts have no WOE (it is label-derived) and always use bin indicators"))


class ScorecardParams(Params):
    """Points scaling of ``scorecard`` (Siddiqi 2006): ``base_score`` points at good:bad odds
    ``base_odds``; every ``pdo`` points double the odds."""

    params_of = "scorecard"

    base_score: float = Field(600.0, description="score at the base odds")
    base_odds: float = Field(50.0, gt=0.0, description="good:bad odds at the base score")
    pdo: float = Field(20.0, gt=0.0, description="points to double the odds")


class CorrelationParams(Params):
    """Which own columns enter the cross-party Pearson matrix."""

    params_of = "feature correlation"

    columns: tuple[str, ...] = Field((), description=(
        "own numeric columns to correlate (default: every feature column; each must be "
        "numeric without missing values)"))


#: Floor of the group owner's minimum group size (the job document cannot lower it).
MIN_GROUP_COUNT = 10

GROUP_INDICATORS = MessageKey(
    "fe_group_indicators",
    "guest -> host: {key, groups, indicators: [[2^(96 g_r)]] per aligned row r (packed)}")
GROUP_SUMS = MessageKey(
    "fe_group_sums",
    "host -> guest: {columns, ranges, epsilon, sums: per column [[packed clipped group sums "
    "+ offset + Laplace noise]]}")


class GroupByParams(Params):
    """Group-by aggregates over the intersection: the guest's group column, a host's numeric
    columns. Each side's fields are its own (``role_parameters``): the guest's
    ``group_column``/``group_edges``/``min_count``/``key_bits``, the host's
    ``value_columns``/``value_ranges``/``epsilon``/``max_groups``."""

    params_of = "group-by aggregates"

    group_column: str = Field("", description=(
        "guest: its column that defines the groups (text categories, or numeric with "
        "group_edges); missing values form the group '(missing)'"))
    group_edges: tuple[float, ...] = Field((), description=(
        "guest: ascending edges that band a numeric group column (e.g. ages 30, 40, 50)"))
    min_count: int = Field(MIN_GROUP_COUNT, ge=MIN_GROUP_COUNT, description=(
        "guest: groups with fewer rows are suppressed in the report (k rule, at least 10)"))
    value_columns: tuple[str, ...] = Field((), description=(
        "host: its numeric columns to aggregate (default: every feature column)"))
    value_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict, description=(
        "host: the declared range [low, high] of each value column; values are clipped to it "
        "and the noise is calibrated to high - low (required for every value column)"))
    epsilon: float = Field(1.0, gt=0.0, le=10.0, description=(
        "host: Laplace noise of scale (high - low) / epsilon on each group sum (per column; "
        "epsilon-differential privacy per column for disjoint groups)"))
    max_groups: int = Field(32, ge=1, le=1000, description=(
        "host: most groups it aggregates in one run (bounds the privacy loss when groups "
        "overlap: max_groups x epsilon per column)"))
    key_bits: Literal[1024, 2048, 3072] = Field(2048, description=(
        "guest: Paillier modulus of the indicators' key"))
    allow_insecure_key: bool = Field(False, description="permit a 1024-bit key (tests only)")
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the row-alignment digests (SHA-256 or SM3): standard or sm; the "
        "federation's, filled in at submit when omitted"))

    @field_validator("group_edges")
    @classmethod
    def _ascending(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(b <= a for a, b in pairwise(v)):
            raise ValueError("group edges must be strictly ascending")
        return v

    @field_validator("value_ranges")
    @classmethod
    def _ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        if any(not hi > lo for lo, hi in v.values()):
            raise ValueError("each value range must satisfy low < high")
        return v

    @model_validator(mode="after")
    def _key(self) -> GroupByParams:
        if self.key_bits < 2048 and not self.allow_insecure_key:
            raise ParamConflict("key_bits < 2048 requires allow_insecure_key=True",
                                "key_bits", "allow_insecure_key")
        return self
