"""Synthetic, realistic-looking data for demos: a bank and a telco scoring credit risk.

The bank (guest) knows its customers' age, income, debt ratio, open credit lines and past late
payments, plus whether they defaulted (the label). The telco (host) knows tenure, monthly bill,
data usage, late bill payments and device price. Customers are keyed by phone number; the two
customer bases overlap partially. Default risk depends on both parties' features, so the joint
model beats the bank's alone — which is the point of federating.

Everything is generated from a seed in code: the product needs no external data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CreditScenario", "make_credit_scenario"]


@dataclass(frozen=True)
class CreditScenario:
    """The two parties' tables (ID column ``phone``) and the true overlap size."""

    bank: pd.DataFrame
    telco: pd.DataFrame
    overlap: int


def make_credit_scenario(
    n_bank: int = 4000, n_telco: int = 5000, n_shared: int = 3000, seed: int = 7
) -> CreditScenario:
    """Generate the bank (guest, labelled) and telco (host) tables."""
    if not 0 <= n_shared <= min(n_bank, n_telco):
        raise ValueError("n_shared must be between 0 and min(n_bank, n_telco)")
    rng = np.random.default_rng(seed)
    n_total = n_bank + n_telco - n_shared
    phones = rng.choice(10**8, size=n_total, replace=False) + 13_000_000_000
    ids = np.array([str(p) for p in phones])

    # latent traits drive both parties' features
    thrift = rng.normal(size=n_total)
    stability = rng.normal(size=n_total)

    age = np.clip(rng.normal(40, 11, n_total) + 3 * stability, 19, 80).round()
    income = np.exp(rng.normal(10.6, 0.5, n_total) + 0.25 * thrift).round(-2)
    debt_ratio = np.clip(rng.beta(2, 5, n_total) - 0.08 * thrift, 0, 1.5).round(3)
    credit_lines = rng.poisson(3 + np.clip(stability, 0, None))
    late_loans = rng.poisson(np.exp(-0.8 - 0.7 * thrift))

    tenure = np.clip(rng.gamma(2.0, 18, n_total) * np.exp(0.3 * stability), 1, 300).round()
    bill = np.clip(rng.normal(60, 25, n_total) + 8 * thrift, 8, 400).round(2)
    data_gb = np.clip(rng.lognormal(2.3, 0.8, n_total), 0, 500).round(1)
    late_bills = rng.poisson(np.exp(-0.4 - 0.9 * thrift - 0.3 * stability))
    device_price = np.clip(rng.lognormal(6.2, 0.5, n_total), 50, 2500).round()

    logit = (-2.3 + 2.2 * debt_ratio - 0.35 * np.log(income / 40000) + 0.5 * late_loans
             + 0.45 * late_bills - 0.006 * tenure + 0.0004 * device_price - 0.01 * (age - 40))
    default = (rng.random(n_total) < 1 / (1 + np.exp(-logit))).astype(np.int8)

    order = rng.permutation(n_total)
    shared, bank_only = order[:n_shared], order[n_shared:n_bank]
    telco_only = order[n_bank:]
    bank_rows = rng.permutation(np.concatenate([shared, bank_only]))
    telco_rows = rng.permutation(np.concatenate([shared, telco_only]))

    bank = pd.DataFrame({
        "phone": ids[bank_rows], "default": default[bank_rows], "age": age[bank_rows],
        "income": income[bank_rows], "debt_ratio": debt_ratio[bank_rows],
        "credit_lines": credit_lines[bank_rows], "late_loans": late_loans[bank_rows],
    })
    telco = pd.DataFrame({
        "phone": ids[telco_rows], "tenure_months": tenure[telco_rows],
        "monthly_bill": bill[telco_rows], "data_gb": data_gb[telco_rows],
        "late_bills": late_bills[telco_rows], "device_price": device_price[telco_rows],
    })
    return CreditScenario(bank=bank, telco=telco, overlap=n_shared)
