import numpy as np
import pytest
from sklearn import metrics as skm

from coalition.core.errors import InputError
from coalition.protocols.evaluate import (
    binary_report,
    lift_gain_table,
    multiclass_report,
    regression_report,
)


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.clip(0.3 * y + rng.normal(0.35, 0.2, 500), 0, 1)
    return y, s


def test_binary_report_matches_sklearn(scored):
    y, s = scored
    rep = binary_report(y, s)
    assert rep.auc == pytest.approx(skm.roc_auc_score(y, s))
    fpr, tpr, _ = skm.roc_curve(y, s)
    assert rep.ks == pytest.approx(np.max(tpr - fpr))
    pred = (s >= 0.5).astype(int)
    assert rep.f1 == pytest.approx(skm.f1_score(y, pred))
    assert rep.confusion_matrix == skm.confusion_matrix(y, pred).tolist()
    assert np.isfinite(rep.roc["thresholds"]).all()
    assert rep.to_dict()["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))


def test_lift_gain_table_ends_at_full_gain(scored):
    y, s = scored
    table = lift_gain_table(y, s, bins=10)
    assert len(table) == 10
    assert table[-1]["gain"] == pytest.approx(1.0)
    assert table[-1]["cumulative_lift"] == pytest.approx(1.0)
    assert table[0]["lift"] > 1.0  # informative scores put positives first


def test_binary_rejects_bad_input():
    with pytest.raises(InputError):
        binary_report([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(InputError):
        binary_report([0, 1], [0.1])
    with pytest.raises(InputError):
        binary_report([1, 1], [0.1, 0.2])
    with pytest.raises(InputError):
        binary_report([0, 1], [0.1, float("nan")])


def test_multiclass_report():
    y = np.array([0, 1, 2, 2, 1, 0])
    p = np.array([0, 2, 2, 2, 1, 1])
    rep = multiclass_report(y, p)
    assert rep.accuracy == pytest.approx(4 / 6)
    assert rep.macro_f1 == pytest.approx(skm.f1_score(y, p, average="macro"))
    assert rep.micro_f1 == pytest.approx(skm.f1_score(y, p, average="micro"))
    assert rep.labels == [0, 1, 2]


def test_regression_report():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.1, 1.9, 3.2, 3.7])
    rep = regression_report(y, p)
    assert rep.rmse == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert rep.mae == pytest.approx(0.175)
    assert rep.r2 == pytest.approx(skm.r2_score(y, p))
