"""feature_psi: the population stability index against a direct computation."""

import math

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.feature_psi import FeaturePsi
from coalition.core import Party

G = Party.guest("bank")


def test_psi_is_zero_for_the_same_rows_and_matches_the_formula_under_shift(run_component):
    rng = np.random.default_rng(4)
    old = pd.DataFrame({"id": [str(i) for i in range(1000)], "x": rng.normal(0, 1, 1000),
                        "c": rng.choice(["a", "b"], 1000)})
    new = old.assign(x=old["x"] + 0.5, c="a")
    out = run_component(FeaturePsi, {G: {"bins": 4}},
                        {G: {"expected": Dataset(old, "id"), "actual": Dataset(new, "id")}})[G]
    [table] = out["report"].content["tables"]
    psi = {r[0]: r[2] for r in table["rows"]}
    edges = np.quantile(old["x"], [0.25, 0.5, 0.75])
    e = np.bincount(np.searchsorted(edges, old["x"]), minlength=5)[:4] / 1000
    a = np.bincount(np.searchsorted(edges, new["x"]), minlength=5)[:4] / 1000
    assert psi["x"] == pytest.approx(sum((ai - ei) * math.log(ai / ei)
                                         for ai, ei in zip(a, e, strict=True)), abs=1e-12)
    ea = (old["c"] == "a").mean()
    expect_c = (1 - ea) * math.log(1 / ea) + (1e-4 - (1 - ea)) * math.log(1e-4 / (1 - ea))
    assert psi["c"] == pytest.approx(expect_c, abs=1e-12)
    assert out["metrics"].values["max_psi"] == max(psi.values())
    same = run_component(FeaturePsi, {G: {}}, {G: {"expected": Dataset(old, "id"),
                                                   "actual": Dataset(old, "id")}})[G]
    assert same["metrics"].values["max_psi"] == 0.0
