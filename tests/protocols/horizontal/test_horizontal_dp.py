"""Client-level DP of horizontal FL: the accountant's ε against the published RDP formulas,
and DP changes the model (noise really is added) and costs accuracy gracefully."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hfl_support import AGG, iid_split, load_fate, run_federation

from coalition.protocols.horizontal import DPConfig, HorizontalParams, LocalData, SecAggConfig
from coalition.protocols.horizontal.dp import PrivacyAccountant
from coalition.protocols.horizontal.models import LogisticRegression
from coalition.protocols.horizontal.strategies import FedAvg


def _sampled_gaussian_rdp(q: float, sigma: float, alpha: int) -> float:
    """RDP of the sampled Gaussian mechanism at an integer order (Mironov, Talwar, Zhang 2019,
    §3.3: ``A_α = Σ_k C(α,k) (1−q)^(α−k) q^k exp((k²−k)/(2σ²))``, RDP ``= log A_α/(α−1)``)."""
    logs = [math.log(math.comb(alpha, k)) + k * math.log(q) + (k * k - k) / (2 * sigma**2)
            + ((alpha - k) * math.log1p(-q) if k < alpha else 0.0)
            for k in range(alpha + 1) if q < 1 or k == alpha]
    top = max(logs)  # log-sum-exp: the terms overflow floats at high orders
    return (top + math.log(sum(math.exp(v - top) for v in logs))) / (alpha - 1)


def _epsilon(rdp: dict[int, float], delta: float) -> float:
    """(ε, δ) from RDP (Balle et al. 2020, Prop. 12; Canonne et al. 2020, eq. 20)."""
    return max(0.0, min(r + math.log1p(-1 / a) - math.log(delta * a) / (a - 1)
                        for a, r in rdp.items()))


@pytest.mark.parametrize("q,sigma,rounds", [(1.0, 1.0, 5), (0.5, 1.1, 10), (0.1, 2.0, 25)])
def test_accountant_matches_the_rdp_reference(q, sigma, rounds) -> None:
    from dp_accounting import GaussianDpEvent, PoissonSampledDpEvent
    from dp_accounting.rdp import RdpAccountant

    orders = list(range(2, 65))
    reference = _epsilon({a: rounds * _sampled_gaussian_rdp(q, sigma, a) for a in orders}, 1e-5)
    if q == 1.0:  # the Gaussian mechanism's RDP is α/(2σ²) (Mironov 2017, Prop. 7)
        assert _sampled_gaussian_rdp(1.0, sigma, 7) == pytest.approx(7 / (2 * sigma**2))
    library = RdpAccountant(orders)
    library.compose(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), rounds)
    assert library.get_epsilon(1e-5) == pytest.approx(reference, rel=1e-6)
    # the project's accountant (library default orders, a superset of fractional ones)
    population = 10
    ours = PrivacyAccountant(DPConfig(clip_norm=1.0, noise_multiplier=sigma, delta=1e-5,
                                      noise="server"), round(q * population), population)
    for _ in range(rounds):
        eps = ours.step()
    assert reference * 0.95 <= eps <= reference * 1.0000001


def test_dropouts_under_client_noise_are_charged_the_smaller_noise() -> None:
    dp = DPConfig(clip_norm=1.0, noise_multiplier=1.0, noise="client")
    full, short = PrivacyAccountant(dp, 4, 4), PrivacyAccountant(dp, 4, 4)
    assert short.step(2) > full.step(4)  # two of four noise shares: σ·sqrt(1/2)


@pytest.fixture(scope="module")
def breast4(fate_data: Path) -> list[LocalData]:
    x, y = load_fate(fate_data, "breast_homo_guest.csv")
    x2, y2 = load_fate(fate_data, "breast_homo_host.csv")
    x_te, y_te = load_fate(fate_data, "breast_homo_test.csv")
    x_all, y_all = np.vstack([x, x2]), np.concatenate([y, y2])
    return [LocalData(a, b, x_te, y_te) for a, b in iid_split(x_all, y_all, 4, seed=1)]


def _run(data: list[LocalData], dp: DPConfig | None):
    params = HorizontalParams(rounds=8, secagg=SecAggConfig(), client_timeout=10, dp=dp)
    return run_federation(lambda: LogisticRegression(30), data, params, FedAvg())[AGG]


def test_dp_changes_the_model_and_costs_accuracy_gracefully(breast4) -> None:
    plain = _run(breast4, None)
    assert _run(breast4, None).weights["weight"].tolist() == plain.weights["weight"].tolist()
    runs = {s: [_run(breast4, DPConfig(clip_norm=1.0, noise_multiplier=s)) for _ in range(2)]
            for s in (0.5, 4.0)}
    for sigma, (a, b) in runs.items():
        # noise really is added: two runs with the same settings differ, and differ from plain
        assert not np.allclose(a.weights["weight"], b.weights["weight"]), sigma
        assert not np.allclose(a.weights["weight"], plain.weights["weight"]), sigma
    light, heavy = runs[0.5][0], runs[4.0][0]
    assert light.metrics["auc"] >= plain.metrics["auc"] - 0.05
    assert heavy.history[-1].epsilon < light.history[-1].epsilon
    assert all(h.epsilon is not None and h.epsilon > 0 for h in light.history)
