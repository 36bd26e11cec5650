"""ChiMerge and monotonic binning of the guest's own columns (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.feature_binning import FeatureBinning
from coalition.core import Party
from coalition.core.ids import Role
from coalition.protocols.feature.binning import apply_bins, fit_bins
from coalition.protocols.feature.supervised import supervised_edges
from coalition.testing import PartyFailure

G, H = Party.guest("bank"), Party.host("telco")


def _steps(n: int = 4000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    p = np.where(x < 0.3, 0.05, np.where(x < 0.7, 0.5, 0.95))
    return x, (rng.uniform(0, 1, n) < p).astype(np.float64)


def test_chimerge_finds_the_thresholds_of_the_event_rate():
    x, y = _steps()
    edges = supervised_edges(x, y, "chimerge", 3)
    assert len(edges) == 2
    assert edges[0] == pytest.approx(0.3, abs=0.03) and edges[1] == pytest.approx(0.7, abs=0.03)
    # every edge is a fine quantile edge of the data
    fine = np.quantile(x, np.linspace(0, 1, 51)[1:-1])
    assert all(np.isclose(fine, e).any() for e in edges)


def test_monotonic_bins_have_a_monotone_event_rate_and_missing_keeps_its_bin():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 3000)
    y = (rng.uniform(0, 1, 3000) < 1 / (1 + np.exp(-(1.5 * x + np.sin(6 * x))))).astype(float)
    x[::17] = np.nan
    frame = pd.DataFrame({"x": x})
    fitted = fit_bins(frame, ["x"], method="monotonic", bins=6, categorical=frozenset(),
                      min_category_count=10, labels=y)
    edges = fitted["x"]["edges"]
    assert 1 <= len(edges) <= 5
    codes = apply_bins(fitted, frame)["x"]
    k = len(edges) + 1
    rates = np.bincount(codes, weights=y, minlength=k + 1)[:k] / np.bincount(codes)[:k]
    assert (np.diff(rates) > 0).all()  # increasing, as the correlation says
    assert (codes[np.isnan(x)] == k).all()
    # the quantile binning of the same column breaks monotonicity (the sin term)
    quant = apply_bins(fit_bins(frame, ["x"], method="quantile", bins=20,
                                categorical=frozenset(), min_category_count=10), frame)["x"]
    q = np.bincount(quant, weights=y)[:20] / np.bincount(quant)[:20]
    assert not (np.diff(q) > 0).all()


def test_integer_columns_leave_no_empty_bin():
    rng = np.random.default_rng(4)
    x = rng.poisson(0.7, 500).astype(float)
    y = (rng.uniform(0, 1, 500) < 0.2 + 0.2 * np.minimum(x, 3)).astype(float)
    for method in ("chimerge", "monotonic"):
        edges = supervised_edges(x, y, method, 5)
        counts = np.bincount(np.searchsorted(np.asarray(edges), x, side="left"))
        assert len(counts) == len(edges) + 1 and (counts > 0).all()


def test_constant_and_all_missing_columns_get_no_edges():
    y = np.array([0.0, 1.0, 0.0, 1.0])
    assert supervised_edges(np.ones(4), y, "chimerge", 3) == []
    assert supervised_edges(np.full(4, np.nan), y, "monotonic", 3) == []


def test_only_the_guest_bins_against_labels(run_component):
    x, y = _steps(400)
    guest = Dataset(pd.DataFrame({"id": range(400), "y": y.astype(int), "x": x}), "id", "y")
    out = run_component(FeatureBinning, {G: {"method": "chimerge", "bins": 3}},
                        {G: {"data": guest}})
    assert len(out[G]["model"].data["bins"]["x"]["edges"]) == 2
    params = FeatureBinning.parse_params({"method": "monotonic"})
    [problem] = FeatureBinning.check_role(Role.HOST, params)
    assert problem.field == "method"
    host = Dataset(pd.DataFrame({"id": range(400), "x": x}), "id")
    with pytest.raises(PartyFailure, match="supervised"):
        run_component(FeatureBinning, {H: {"method": "chimerge", "compute_iv": False}},
                      {H: {"data": host}})
