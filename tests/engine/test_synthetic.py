import pytest

from coalition.engine.synthetic import make_credit_scenario


def test_scenario_shapes_overlap_and_label_balance():
    s = make_credit_scenario(n_bank=500, n_telco=600, n_shared=300, seed=1)
    assert len(s.bank) == 500 and len(s.telco) == 600
    assert len(set(s.bank["phone"]) & set(s.telco["phone"])) == 300
    assert s.bank["phone"].is_unique and s.telco["phone"].is_unique
    assert 0.1 < s.bank["default"].mean() < 0.6
    assert "default" not in s.telco.columns


def test_scenario_is_reproducible_and_validates():
    a = make_credit_scenario(n_bank=50, n_telco=50, n_shared=10, seed=3)
    b = make_credit_scenario(n_bank=50, n_telco=50, n_shared=10, seed=3)
    assert a.bank.equals(b.bank)
    with pytest.raises(ValueError):
        make_credit_scenario(n_bank=5, n_telco=5, n_shared=6)
