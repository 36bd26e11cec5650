"""Seeded synthetic data for the industry templates (行业样板间).

Each generator draws the parties' tables from shared latent traits, so a label depends on both
parties' columns (which is why federating pays) while each party only ever gets its own table.
The dependence is documented on each template's page and checked in the tests (a model on the
joined table beats each party alone). Everything is generated in code from a seed: no data is
fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MarketingData", "make_marketing_data"]


@dataclass(frozen=True)
class MarketingData:
    """Joint marketing: the car maker's customers (labelled) and the telco's subscribers."""

    carmaker: pd.DataFrame
    telco: pd.DataFrame
    overlap: int


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array([str(p) for p in rng.choice(10**8, size=n, replace=False) + 13_000_000_000])


def make_marketing_data(n_carmaker: int = 3000, n_telco: int = 4000, n_shared: int = 2400,
                        seed: int = 11) -> MarketingData:
    """A car maker (guest: ownership, service visits, segment, ``bought`` label) and a telco
    (host: ARPU, tenure, minutes, app category, location entropy, device tier).

    Latent traits: *affluence* (telco ARPU and device tier; car segment), *mobility* (location
    entropy and navigation apps; service visits) and *replacement need* (the age of the current
    car). The purchase label depends on all three, so the telco's columns add to the car maker's.
    """
    if not 0 <= n_shared <= min(n_carmaker, n_telco):
        raise ValueError("n_shared must be between 0 and min(n_carmaker, n_telco)")
    rng = np.random.default_rng(seed)
    n = n_carmaker + n_telco - n_shared
    ids = _phones(rng, n)
    affluence, mobility, family = rng.normal(size=(3, n))

    arpu = np.clip(rng.normal(75, 30, n) + 22 * affluence, 10, 600).round(2)
    tenure = np.clip(rng.gamma(2.0, 20, n), 1, 360).round()
    minutes = np.clip(rng.lognormal(5.2, 0.6, n) * np.exp(0.2 * family), 0, 8000).round()
    location_entropy = np.clip(1.6 + 0.55 * mobility + rng.normal(0, 0.35, n), 0, 4).round(3)
    app_scores = np.stack([0.9 * mobility, 0.3 * family, 0.4 * affluence, 0.0 * mobility,
                           -0.3 * affluence]) + rng.gumbel(size=(5, n))
    app_category = np.array(["navigation", "family", "finance", "social", "games"]
                            )[app_scores.argmax(axis=0)]
    tier = np.digitize(affluence + rng.normal(0, 0.6, n), [-0.6, 0.7])
    device_tier = np.array(["budget", "mid", "flagship"])[tier]

    ownership_years = np.clip(rng.gamma(2.2, 2.4, n), 0.2, 20).round(1)
    service_visits = rng.poisson(np.exp(0.4 + 0.35 * mobility + 0.1 * ownership_years / 4))
    segment_idx = np.digitize(0.8 * affluence + 0.5 * family + rng.normal(0, 0.7, n),
                              [-0.8, 0.2, 1.1])
    model_segment = np.array(["compact", "sedan", "suv", "premium"])[segment_idx]

    logit = (-4.0 + 0.22 * np.minimum(ownership_years, 12) + 0.12 * service_visits
             + 0.95 * affluence + 0.85 * mobility + 0.35 * family
             + 0.5 * (app_category == "navigation"))
    bought = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)

    order = rng.permutation(n)
    shared, car_only = order[:n_shared], order[n_shared:n_carmaker]
    telco_only = order[n_carmaker:]
    car_rows = np.concatenate([shared, car_only])
    telco_rows = np.concatenate([shared, telco_only])
    carmaker = pd.DataFrame({
        "phone": ids[car_rows], "ownership_years": ownership_years[car_rows],
        "service_visits": service_visits[car_rows], "model_segment": model_segment[car_rows],
        "bought": bought[car_rows]}).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    telco = pd.DataFrame({
        "phone": ids[telco_rows], "arpu": arpu[telco_rows], "tenure_months": tenure[telco_rows],
        "call_minutes": minutes[telco_rows], "app_category": app_category[telco_rows],
        "location_entropy": location_entropy[telco_rows],
        "device_tier": device_tier[telco_rows],
    }).sample(frac=1.0, random_state=seed + 1).reset_index(drop=True)
    return MarketingData(carmaker, telco, n_shared)
