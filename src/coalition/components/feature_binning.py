"""``feature_binning``: bin each party's own columns; WOE and IV, host bins included (issue 19).

Every party fits bins on its own columns (:mod:`coalition.protocols.feature.binning`: quantile
or equal-width numeric bins, categories with rare ones merged, missing values in their own
bin). With ``compute_iv`` the guest computes WOE and IV of its own bins from its labels, and of
every host's bins through the encrypted exchange of :mod:`coalition.protocols.feature.woe`
(FATE's hetero feature binning): the host never sees a label or anything derived from one in
the clear, the guest never sees a host bin edge or a row's bin — only shuffled per-bin counts.

Outputs per party: ``model`` (``data = {"bins": fitted bins, "woe": {own feature: WOE per
bin}}``; :func:`~coalition.protocols.feature.binning.apply_bins` applies it unchanged at
predict time and in serving), ``report`` (``coalition.tables/1``: a ``bins`` table — feature,
bin, label, rows, events, non_events, woe — and, on the guest, an ``iv`` table — party,
feature, bins, iv) and ``metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Metrics, ModelPart, Report
from coalition.components.base import (
    Component,
    Input,
    Output,
    ParamProblem,
    TaskContext,
    slots,
)
from coalition.components.registry import register
from coalition.core.errors import ConfigError
from coalition.core.ids import Role
from coalition.protocols.feature import BinningParams, Table, tables_report
from coalition.protocols.feature.binning import apply_bins, bin_labels, fit_bins, n_bins
from coalition.protocols.feature.woe import (
    binary_labels,
    guest_host_counts,
    host_bin_sums,
    woe_iv,
)

__all__ = ["BIN_COLUMNS", "IV_COLUMNS", "FeatureBinning"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_SUPERVISED = frozenset({"chimerge", "monotonic"})
BIN_COLUMNS = ("feature", "bin", "label", "rows", "events", "non_events", "woe")
IV_COLUMNS = ("party", "feature", "bins", "iv")


@register
class FeatureBinning(Component):
    """Per-party binning; the guest's WOE/IV over its own and (encrypted) host bins."""

    name = "feature_binning"
    version = "1.0.0"
    description = ("Quantile / equal-width / categorical binning with a missing bin; WOE and IV "
                   "of guest and host features without labels or bins crossing in the clear.")
    Params = BinningParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows (after psi)"))
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _PARTIES, doc="fitted bins (and own WOE on the guest)"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="bins and IV tables (coalition.tables/1)"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="binned features"),
    )

    @classmethod
    def check_role(cls, role: Role, params: BinningParams) -> list[ParamProblem]:
        """ChiMerge and monotonic binning need labels: the guest's own columns only."""
        if params.method in _SUPERVISED and role is not Role.GUEST:
            return [ParamProblem("method", "supervised binning needs the labels; a host "
                                           "bins with quantile or equal_width")]
        return []

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Fit own bins; exchange encrypted label sums when ``compute_iv``."""
        p = ctx.params_as(BinningParams)
        data = ctx.dataset("data")
        problems = self.check_role(ctx.role, p)
        if problems:
            raise ConfigError("invalid component parameters", component=self.ref(),
                              problems=[str(x) for x in problems])
        labels = (binary_labels(data.labels()).astype(np.float64)
                  if p.method in _SUPERVISED else None)
        fitted = fit_bins(data.frame, data.features, method=p.method, bins=p.bins,
                          categorical=frozenset(p.categorical),
                          min_category_count=p.min_category_count, labels=labels)
        codes = apply_bins(fitted, data.frame)
        sizes = {f: n_bins(s) for f, s in fitted.items()}
        party = str(ctx.party)
        rows: list[tuple[Any, ...]] = []
        iv_rows: list[tuple[Any, ...]] = []
        woe: dict[str, list[float | None]] = {}
        if p.compute_iv and ctx.role is Role.HOST:
            host_bin_sums(ctx.comm, codes, sizes)
        if p.compute_iv and ctx.role is Role.GUEST:
            y = binary_labels(data.labels()).astype(np.float64)
            ev = {f: np.bincount(c, weights=y, minlength=sizes[f]).astype(np.int64)
                  for f, c in codes.items()}
            for f, c in codes.items():
                counts = np.bincount(c, minlength=sizes[f]).astype(np.int64)
                w, iv = woe_iv(ev[f], counts)
                woe[f] = w
                iv_rows.append((party, f, sizes[f], iv))
                rows.extend((f, i, lab, int(r), int(e), int(r - e), wi) for i, (lab, r, e, wi)
                            in enumerate(zip(bin_labels(fitted[f]), counts, ev[f], w,
                                             strict=True)))
            if ctx.comm.hosts:
                for host, feats in guest_host_counts(ctx.comm, y, p.key_bits,
                                                     p.allow_insecure_key).items():
                    for f, part in feats.items():
                        w, iv = woe_iv(part["events"], part["rows"])
                        iv_rows.append((host, f, int(part["rows"].size), iv))
                        rows.extend((f, i, f"{host} bin (shuffled)", int(r), int(e), int(r - e), wi)
                                    for i, (r, e, wi) in enumerate(zip(part["rows"],
                                                                       part["events"], w,
                                                                       strict=True)))
        else:
            for f, c in codes.items():
                counts = np.bincount(c, minlength=sizes[f])
                rows.extend((f, i, lab, int(r), None, None, None)
                            for i, (lab, r) in enumerate(zip(bin_labels(fitted[f]), counts,
                                                             strict=True)))
        tables = [Table("bins", party, BIN_COLUMNS, tuple(rows))]
        if iv_rows:
            tables.append(Table("iv", party, IV_COLUMNS, tuple(iv_rows)))
        return {"model": ModelPart(self.family(), ctx.role, {"bins": fitted, "woe": woe}),
                "report": Report(tables_report(tables)),
                "metrics": Metrics({"features": float(len(fitted))})}
