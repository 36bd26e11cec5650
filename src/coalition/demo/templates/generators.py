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

from coalition.engine.synthetic import make_credit_scenario

__all__ = ["MarketingData", "VerificationData", "make_credit_raw", "make_marketing_data",
           "make_verification_data", "raw_exports"]


@dataclass(frozen=True)
class MarketingData:
    """Joint marketing: the car maker's customers (labelled) and the telco's subscribers.

    ``prospects`` is the generator's truth about the telco's non-customers (phone, whether
    they buy): no party holds it; the template checks the prospect ranking against it."""

    carmaker: pd.DataFrame
    telco: pd.DataFrame
    overlap: int
    prospects: pd.DataFrame


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
    prospects = pd.DataFrame({"phone": ids[telco_only], "bought": bought[telco_only]})
    return MarketingData(carmaker, telco, n_shared, prospects)


def make_credit_raw(n_bank: int = 3000, n_telco: int = 3750, n_shared: int = 2250,
                    seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The credit scenario (:func:`coalition.engine.synthetic.make_credit_scenario`) as raw
    exports: the bank with an ``employment`` text column and income missing for ~8 % of
    customers, the telco with a ``plan`` text column and data usage missing for ~10 %."""
    scenario = make_credit_scenario(n_bank, n_telco, n_shared, seed)
    return raw_exports(scenario.bank, scenario.telco)


def raw_exports(bank: pd.DataFrame, telco: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the text columns and missing values of :func:`make_credit_raw` (seeded)."""
    rng = np.random.default_rng(11)
    bank = bank.assign(employment=rng.choice(["salaried", "self-employed", "retired",
                                              "student"], len(bank), p=[.6, .2, .15, .05]))
    bank.loc[rng.random(len(bank)) < 0.08, "income"] = np.nan
    plan = np.where(telco["monthly_bill"] < 45, "basic",
                    np.where(telco["monthly_bill"] < 80, "plus", "max"))
    telco = telco.assign(plan=plan)
    telco.loc[rng.random(len(telco)) < 0.1, "data_gb"] = np.nan
    return bank, telco


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class VerificationData:
    """Three-element verification: the bank's triples, the telco's records, and the truth."""

    bank: pd.DataFrame      # customer_id, phone, name, id_number
    telco: pd.DataFrame     # phone, name, id_number
    truth: pd.DataFrame     # customer_id, phone_found, name_match, id_match


def _id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    region = rng.integers(110000, 659999, n)
    birth = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), "D")
    serial = rng.integers(0, 1000, n)
    check = rng.choice(list("0123456789X"), n)
    return np.array([f"{r}{b:%Y%m%d}{s:03d}{c}" for r, b, s, c in
                     zip(region, birth, serial, check, strict=True)])


def make_verification_data(n_bank: int = 1000, n_telco: int = 5000,
                           seed: int = 13) -> VerificationData:
    """A bank's customers to verify against a telco's subscriber records.

    Of the bank's triples, by construction: 80 % match on all three elements, 6 % carry a
    different name (a typo or an old name), 5 % a different ID number, 2 % both, and 7 % a phone
    the telco has no record of. The truth table is what a correct verification must return.
    """
    if n_bank > n_telco:
        raise ValueError("the bank verifies at most as many customers as the telco has")
    rng = np.random.default_rng(seed)
    phones = _phones(rng, n_telco + n_bank)
    names = np.array([rng.choice(list(_SURNAMES)) + "".join(rng.choice(list(_GIVEN),
                      rng.integers(1, 3))) for _ in range(n_telco)])
    ids = _id_numbers(rng, n_telco)
    telco = pd.DataFrame({"phone": phones[:n_telco], "name": names, "id_number": ids})
    case = rng.choice(5, n_bank, p=[0.80, 0.06, 0.05, 0.02, 0.07])
    pick = rng.choice(n_telco, n_bank, replace=False)
    b_phone = telco.phone.to_numpy()[pick].copy()
    b_name = telco.name.to_numpy()[pick].copy()
    b_id = telco.id_number.to_numpy()[pick].copy()
    other = rng.choice(n_telco, n_bank)
    wrong_name = np.isin(case, (1, 3))
    wrong_id = np.isin(case, (2, 3))
    absent = case == 4
    b_name[wrong_name] = [n + "某" for n in b_name[wrong_name]]
    b_id[wrong_id] = _id_numbers(rng, int(wrong_id.sum()))
    b_phone[absent] = phones[n_telco:][: int(absent.sum())]
    b_name[absent] = telco.name.to_numpy()[other[absent]]
    bank = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(n_bank)],
                         "phone": b_phone, "name": b_name, "id_number": b_id})
    truth = pd.DataFrame({"customer_id": bank.customer_id,
                          "phone_found": (~absent).astype(np.int64),
                          "name_match": (~absent & ~wrong_name).astype(np.int64),
                          "id_match": (~absent & ~wrong_id).astype(np.int64)})
    return VerificationData(bank, telco, truth)
