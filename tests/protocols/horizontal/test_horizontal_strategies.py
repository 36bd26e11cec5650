"""Strategies are pure functions of their inputs (plus optimiser state)."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from coalition.core import ConfigError, InputError
from coalition.protocols.horizontal.strategies import (
    STRATEGIES,
    CoordinateMedian,
    FedAdagrad,
    FedAdam,
    FedAvg,
    FedProx,
    FedYogi,
    Krum,
    StrategyName,
    TrimmedMean,
    make_strategy,
)

U = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 60.0]])
W = np.array([1.0, 1.0, 2.0])


def test_fedavg_weights_by_sample_count() -> None:
    s = FedAvg()
    np.testing.assert_allclose(s.combine(U, W), (U[0] + U[1] + 2 * U[2]) / 4)
    np.testing.assert_allclose(s.apply(np.zeros(2), np.ones(2)), np.ones(2))
    assert FedAvg().proximal_mu == 0 and FedProx(mu=0.1).proximal_mu == 0.1


def test_fedadam_first_step_matches_reddi() -> None:
    s = FedAdam(eta=0.1, beta1=0.9, beta2=0.99, tau=1e-3)
    d = np.array([0.5, -2.0])
    x = s.apply(np.zeros(2), d)
    m = 0.1 * d
    v = 0.99 * 1e-6 + 0.01 * d * d
    np.testing.assert_allclose(x, 0.1 * m / (np.sqrt(v) + 1e-3))
    x2 = s.apply(x, d)  # state carries over
    m2 = 0.9 * m + 0.1 * d
    v2 = 0.99 * v + 0.01 * d * d
    np.testing.assert_allclose(x2, x + 0.1 * m2 / (np.sqrt(v2) + 1e-3))


def test_fedyogi_and_fedadagrad_second_moments() -> None:
    d = np.array([0.5, -2.0])
    v0 = np.full(2, 1e-6)
    yogi = FedYogi(tau=1e-3)
    yogi.apply(np.zeros(2), d)
    np.testing.assert_allclose(yogi.v_, v0 - 0.01 * d * d * np.sign(v0 - d * d))
    ada = FedAdagrad(tau=1e-3)
    ada.apply(np.zeros(2), d)
    np.testing.assert_allclose(ada.v_, v0 + d * d)


def test_median_and_trimmed_mean_ignore_outliers() -> None:
    honest = np.random.default_rng(0).normal(1.0, 0.1, (8, 5))
    evil = np.full((2, 5), -1e6)
    u = np.vstack([honest, evil])
    w = np.ones(10)
    assert np.all(np.abs(CoordinateMedian().combine(u, w) - 1.0) < 0.5)
    assert np.all(np.abs(TrimmedMean(beta=0.2).combine(u, w) - 1.0) < 0.5)
    assert np.all(FedAvg().combine(u, w) < -1e4)


def test_krum_selects_central_updates() -> None:
    rng = np.random.default_rng(1)
    honest = rng.normal(0.0, 0.1, (7, 4))
    evil = rng.normal(50.0, 0.1, (3, 4))
    u = np.vstack([honest, evil])
    k = Krum(num_byzantine=3)
    assert np.argmin(k.scores(u)) < 7
    multi = Krum(num_byzantine=3, multi=4).combine(u, np.ones(10))
    assert np.all(np.abs(multi) < 1.0)


def test_registry_and_validation() -> None:
    assert isinstance(make_strategy("fedyogi", eta=0.05), FedYogi)
    with pytest.raises(ConfigError):
        make_strategy("nope")
    with pytest.raises(ConfigError):
        make_strategy("fedavg", bogus=1)
    with pytest.raises(ConfigError):
        TrimmedMean(beta=0.5)
    with pytest.raises(InputError):
        FedAvg().combine(U, np.array([1.0, 0.0, 1.0]))


def test_strategy_names_for_parameters_are_the_registry() -> None:
    assert set(get_args(StrategyName)) == set(STRATEGIES)
