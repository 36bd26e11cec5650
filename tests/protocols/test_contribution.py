"""Shapley contribution: efficiency, symmetry, free-riders near zero (exact, LOO, GTG-Shapley)."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core.errors import ConfigError
from coalition.protocols.contribution import (
    RoundUpdates,
    exact_shapley,
    gtg_shapley,
    leave_one_out,
)

PARTIES = ["bank", "telco", "shop", "rider"]
WORTH = {"bank": 0.3, "telco": 0.3, "shop": 0.1, "rider": 0.0}


def _value(s: frozenset[str]) -> float:
    # additive worth plus a synergy between bank and telco; the rider adds nothing
    bonus = 0.2 if {"bank", "telco"} <= s else 0.0
    return 0.5 + sum(WORTH[p] for p in s) + bonus


def test_exact_shapley_efficiency_symmetry_and_null_player() -> None:
    phi = exact_shapley(PARTIES, _value)
    full, empty = _value(frozenset(PARTIES)), _value(frozenset())
    assert sum(phi.values()) == pytest.approx(full - empty)
    assert phi["bank"] == pytest.approx(phi["telco"]) == pytest.approx(0.4)
    assert phi["shop"] == pytest.approx(0.1)
    assert phi["rider"] == pytest.approx(0.0)


def test_leave_one_out_and_limits() -> None:
    loo = leave_one_out(PARTIES, _value)
    assert loo == pytest.approx({"bank": 0.5, "telco": 0.5, "shop": 0.1, "rider": 0.0})
    with pytest.raises(ConfigError):
        exact_shapley([f"p{i}" for i in range(11)], _value)
    with pytest.raises(ConfigError):
        exact_shapley(["a", "a"], _value)


def _hfl_rounds(rider_weight: float) -> tuple[list[RoundUpdates], np.ndarray, np.ndarray]:
    """Three honest clients (100 samples each) of one linear regression and a free-rider that
    sends noise and claims ``rider_weight`` samples."""
    rng = np.random.default_rng(7)
    w_true = np.array([1.5, -2.0, 0.5])
    x_val = rng.normal(size=(200, 3))
    y_val = x_val @ w_true
    model = np.zeros(3)
    rounds = []
    for _ in range(4):
        updates: dict[str, np.ndarray] = {}
        for c in ("a", "b", "c"):
            x = rng.normal(size=(100, 3))
            y = x @ w_true + rng.normal(scale=0.1, size=100)
            local = model.copy()
            for _ in range(5):
                local -= 0.1 * x.T @ (x @ local - y) / len(y)
            updates[c] = local - model
        updates["rider"] = rng.normal(scale=0.05, size=3)
        weights = {**dict.fromkeys(updates, 100.0), "rider": rider_weight}
        rnd = RoundUpdates(model, updates, weights)
        rounds.append(rnd)
        model = rnd.submodel(frozenset(updates))
    return rounds, x_val, y_val


@pytest.mark.parametrize("rider_weight", [5.0, 100.0])
def test_gtg_shapley_free_rider_and_efficiency(rider_weight: float) -> None:
    rounds, x_val, y_val = _hfl_rounds(rider_weight)

    def utility(w: np.ndarray) -> float:
        return -float(np.mean((x_val @ w - y_val) ** 2))

    phi = gtg_shapley(rounds, utility, eps=1e-4, max_permutations=40)
    honest = [phi[c] for c in ("a", "b", "c")]
    assert min(honest) > 0
    if rider_weight < 10:
        assert abs(phi["rider"]) < 0.05 * sum(honest)  # ~0: it barely moves the average
    else:
        assert phi["rider"] < 0  # weighted like an honest client, its noise dilutes progress
    gain = sum(utility(r.submodel(frozenset(r.updates))) - utility(r.before) for r in rounds)
    assert sum(phi.values()) == pytest.approx(gain, rel=0.05)
