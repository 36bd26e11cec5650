"""feature_transform: fit on train, apply unchanged to test; encoders, scalers, typed errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from coalition.components import Dataset
from coalition.components.feature_transform import FeatureTransform
from coalition.core import InputError, Party
from coalition.protocols.feature.transform import apply_transform, fit_transform
from coalition.testing import PartyFailure

G = Party.guest("bank")


def _train() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    x = rng.normal(10, 3, 50)
    x[[3, 7]] = np.nan
    x[0] = 1e6  # an outlier
    return pd.DataFrame({"id": [str(i) for i in range(50)], "y": rng.integers(0, 2, 50),
                         "x": x, "city": rng.choice(["paris", "lyon", None], 50),
                         "flat": np.full(50, 2.0)})


def test_fit_on_train_apply_on_test_equals_sklearn_and_handles_unseen(run_component):
    train = _train()
    test = pd.DataFrame({"id": ["a", "b"], "y": [0, 1], "x": [np.nan, 5.0],
                         "city": ["nice", None], "flat": [2.0, 3.0]})
    out = run_component(FeatureTransform,
                        {G: {"impute": "median", "scale": "standard", "encode": "onehot",
                             "cap_quantiles": [0.0, 0.95]}},
                        {G: {"data": Dataset(train, "id", "y"),
                             "test_data": Dataset(test, "id", "y")}})[G]
    fitted = out["model"].data["columns"]
    lo, hi = np.nanquantile(train["x"], [0.0, 0.95])
    capped = train["x"].clip(lo, hi)
    filled = capped.fillna(capped.median())
    expect = StandardScaler().fit(filled.to_frame())
    got = out["data"].frame
    assert np.allclose(got["x"], expect.transform(filled.to_frame()).ravel(), atol=1e-12)
    # city: missing -> mode, one 0/1 column per training category; flat: only centred
    assert [c for c in got.columns if c.startswith("city=")] == ["city=lyon", "city=paris"]
    assert got["flat"].tolist() == [0.0] * 50
    t = out["test_output"].frame
    assert t["x"].iloc[0] == pytest.approx((filled.median() - expect.mean_[0])
                                           / expect.scale_[0])
    assert t[["city=lyon", "city=paris"]].iloc[0].tolist() == [0.0, 0.0]  # unseen: all zero
    assert t["flat"].tolist() == [0.0, 0.0]  # 3.0 capped to the training range [2, 2]
    assert apply_transform(fitted, test).equals(t)  # the model part alone reproduces it
    assert out["data"].feature_matrix().shape == (50, 4)  # numeric: LR accepts it


def test_label_encoding_minmax_and_constant_imputation():
    train = _train()
    fitted = fit_transform(train, ["x", "city"], impute="constant", fill_value=-1.0,
                           encode="label", scale="minmax", cap_quantiles=None)
    out = apply_transform(fitted, pd.DataFrame({"x": [np.nan], "city": ["rome"]}))
    filled = train["x"].fillna(-1.0).to_frame()
    expect = MinMaxScaler().fit(filled).transform(pd.DataFrame({"x": [-1.0]}))[0, 0]
    assert out["x"].iloc[0] == pytest.approx(expect)
    assert fitted["city"]["categories"] == ["lyon", "missing", "paris"]
    assert out["city"].iloc[0] == -1.0  # unseen category


def test_all_missing_and_text_in_numeric_are_typed_errors(run_component):
    frame = pd.DataFrame({"id": ["a", "b"], "gone": [np.nan, np.nan]})
    with pytest.raises(PartyFailure, match="all-missing"):
        run_component(FeatureTransform, {G: {"impute": "mean"}},
                      {G: {"data": Dataset(frame, "id")}})
    fitted = fit_transform(pd.DataFrame({"v": [1.0, 2.0]}), ["v"], impute="none",
                           fill_value=0.0, encode="label", scale="none", cap_quantiles=None)
    with pytest.raises(InputError, match="holds text"):
        apply_transform(fitted, pd.DataFrame({"v": ["x"]}))
    with pytest.raises(InputError, match="absent"):
        apply_transform(fitted, pd.DataFrame({"w": [1.0]}))
